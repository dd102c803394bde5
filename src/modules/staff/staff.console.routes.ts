import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ok } from '../../http/envelope.ts';
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

export function staffJson(member: StaffMember) {
  return { id: member.id, email: member.email, role: member.role, totp_enabled: member.totpEnabled, created_at: formatApiTime(member.createdAt) };
}

/** Console: the staff list (support needs it to assign conversations) and creating staff (admins). */
export const staffConsoleRoutes: FastifyPluginAsyncTypebox<{ staff: StaffService }> = async (app, { staff }) => {
  app.get('/staff', { schema: hide, config: supportAllowed }, async () => ok({ staff: (await staff.list()).map(staffJson) }));

  app.post('/staff', { schema: { ...hide, body: CreateStaffBody } }, async (request, reply) => {
    const created = await staff.create(actorOf(request), request.body);
    return reply.status(201).send(ok({ staff: staffJson(created.staff), password: created.password }));
  });
};
