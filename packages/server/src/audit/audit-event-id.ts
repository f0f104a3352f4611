// AuditEvent ids, which are also the request ids sent back as `X-Request-Id`: UUIDv7 (RFC 9562 §5.7), ordered by
// time. The trail only grows, and with time-ordered ids each AuditEvent's entry in the `resources (type, id)` index
// lands beside the last one instead of on a random page of an index that grows with the trail: under S this halved
// the pages PostgreSQL had to read back into its buffers per request (docs/decisions.md, "Time-ordered AuditEvent ids").
import { v7 as uuidV7 } from 'uuid';

export const newAuditEventId = (): string => uuidV7();
