/** The API's timestamp format, as the spec shows it: "2026-06-02 10:20:00", always UTC. */
export function formatApiTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}
