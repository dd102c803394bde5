import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
import { carriesSecret } from '../../http/no-store.ts';
import { formatApiTime } from '../../time-format.ts';
import { actorOf, supportAllowed } from '../console/staff-auth.ts';
import type { StaffMember, StaffService } from './staff.service.ts';

const hide = { hide: true } as const;

const CreateStaffBody = Type.Object(
  {
    email: Type.String({ maxLength: 320 }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('support')]),
    password: Type.Optional(Type.String({ minLength: 12, maxLength: 1024 })),
  },
  { additionalProperties: false },
);

const StaffIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

const UpdateStaffBody = Type.Object(
  {
    role: Type.Optional(Type.Union([Type.Literal('admin'), Type.Literal('support')])),
    disabled: Type.Optional(Type.Boolean()),
    reset_totp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export function staffJson(member: StaffMember) {
  return {
    id: member.id,
    email: member.email,
    role: member.role,
    totp_enabled: member.totpEnabled,
    disabled: member.disabled,
    created_at: formatApiTime(member.createdAt),
  };
}

/** Console: the staff list (support needs it to assign conversations); creating and changing staff (admins). */
export const staffConsoleRoutes: FastifyPluginAsyncTypebox<{ staff: StaffService }> = async (app, { staff }) => {
  app.get('/staff', { schema: hide, config: supportAllowed }, async () => ok({ staff: (await staff.list()).map(staffJson) }));

  app.post('/staff', { schema: { ...hide, body: CreateStaffBody }, config: carriesSecret }, async (request, reply) => {
    const created = await staff.create(actorOf(request), request.body);
    return reply.status(201).send(ok({ staff: staffJson(created.staff), password: created.password }));
  });

  app.post('/staff/:id', { schema: { ...hide, params: StaffIdParams, body: UpdateStaffBody } }, async (request) => {
    const { role, disabled, reset_totp } = request.body;
    return ok({ staff: staffJson(await staff.update(actorOf(request), request.params.id, { role, disabled, resetTotp: reset_totp })) });
  });
};
