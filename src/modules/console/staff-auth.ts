import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../http/errors.ts';
import { type Actor, staffActor } from '../audit/audit.service.ts';
import type { StaffMember, StaffService } from '../staff/staff.service.ts';
import type { StaffRole } from '../staff/staff.tables.ts';

export const consoleSessionCookie = 'nova_console';
export const consoleCsrfCookie = 'nova_console_csrf';
export const consoleCsrfHeader = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyRequest {
    staff?: StaffMember;
  }
  interface FastifyContextConfig {
    /**
     * Staff roles allowed on a console route. Absent means admins only: a new route is closed
     * to support staff until it says otherwise.
     */
    staffRoles?: readonly StaffRole[];
  }
}

/** Route config for console routes support staff may use too (reads, inbox, feedback). */
export const supportAllowed = { staffRoles: ['admin', 'support'] } as const;

/**
 * onRequest hook of every /api/console route except sign-in: a complete staff session (password
 * and, where due, the second factor) with a role the route allows. Customers and anonymous
 * visitors get 403 whatever cookie they hold: a customer session is never a staff session.
 */
export function staffAuthentication(staffService: StaffService) {
  return async function authenticateStaff(request: FastifyRequest, _reply: FastifyReply) {
    const token = request.cookies[consoleSessionCookie] ?? '';
    const session = token ? await staffService.resolve(token) : null;
    if (!session) throw new AppError('forbidden', 'Staff only: sign in to the console at /console');
    if (session.stage !== 'complete') throw new AppError('forbidden', 'Finish signing in: enter the code from your authenticator app at /console');
    const allowed = request.routeOptions.config.staffRoles ?? ['admin'];
    if (!allowed.includes(session.staff.role)) {
      throw new AppError('forbidden', `This needs the ${allowed.join(' or ')} role; you are signed in as ${session.staff.role}`);
    }
    request.staff = session.staff;
  };
}

/** The signed-in staff member of a console route (the hook above guarantees one). */
export function staffOf(request: FastifyRequest): StaffMember {
  if (!request.staff) throw new AppError('forbidden', 'Staff only: sign in to the console at /console');
  return request.staff;
}

/** The audit actor of a console route. */
export function actorOf(request: FastifyRequest): Actor {
  return staffActor(staffOf(request));
}
