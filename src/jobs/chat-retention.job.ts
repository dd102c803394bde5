import type { FastifyBaseLogger } from 'fastify';
import type { SupportService } from '../modules/support/support.service.ts';
import { startJobLoop } from './job-loop.ts';

// Hourly is plenty for a limit counted in days.
export const chatRetentionIntervalMs = 3600 * 1000;

/**
 * Deletes closed "Chat with us" conversations of anonymous visitors (no account) once they have
 * been closed for `retentionDays` (NOVA_CHAT_RETENTION_DAYS): nobody can ask about them again, and
 * we keep no personal data longer than needed. Customers' conversations stay with their account.
 * Safe with several instances: each batch locks its rows with SKIP LOCKED, and deleting is idempotent.
 */
export function startChatRetentionJob(support: SupportService, retentionDays: number, intervalMs: number, log: FastifyBaseLogger) {
  return startJobLoop('chat-retention', intervalMs, () => support.deleteExpired(retentionDays), log);
}
