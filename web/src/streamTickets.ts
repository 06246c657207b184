/**
 * Stream tickets: EventSource cannot send an Authorization header, and a bearer token in a URL
 * lands in proxy and load balancer access logs. So a client that holds a token asks for a ticket
 * (POST /api/submissions/:id/stream-ticket) and opens the event stream with `?ticket=`: random,
 * good for one submission's events only, for a few minutes. Tickets live in the gateway's
 * `stream_tickets` table (only their SHA-256), so any instance behind the load balancer accepts them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';

export interface StreamTicketStore {
  /** A new ticket for `userId` to read `requestId`'s events during `ttlSeconds`. */
  issue(userId: string, requestId: string, ttlSeconds: number): Promise<string>;
  /** The user the ticket was issued to, when it is for `requestId` and has not expired. */
  redeem(ticket: string, requestId: string): Promise<string | undefined>;
}

export const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newTicket(): { ticket: string; hash: string } {
  const ticket = randomBytes(32).toString('base64url');
  return { ticket, hash: hashTicket(ticket) };
}

export function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}

export class MysqlStreamTicketStore implements StreamTicketStore {
  constructor(private readonly pool: Pool) {}

  async issue(userId: string, requestId: string, ttlSeconds: number): Promise<string> {
    const { ticket, hash } = newTicket();
    // The database's clock decides expiry, so every instance agrees.
    await this.pool.execute(
      'INSERT INTO stream_tickets (ticket_hash, user_id, request_id, expires_at) VALUES (?, ?, ?, NOW(3) + INTERVAL ? SECOND)',
      [hash, userId, requestId, ttlSeconds],
    );
    // Expired tickets are useless: sweep a few on the way out.
    await this.pool.execute('DELETE FROM stream_tickets WHERE expires_at < NOW(3) LIMIT 100');
    return ticket;
  }

  async redeem(ticket: string, requestId: string): Promise<string | undefined> {
    if (!TICKET_PATTERN.test(ticket)) return undefined;
    const [rows] = await this.pool.execute<RowDataPacket[]>(
      'SELECT user_id FROM stream_tickets WHERE ticket_hash = ? AND request_id = ? AND expires_at > NOW(3)',
      [hashTicket(ticket), requestId],
    );
    return rows[0]?.user_id;
  }
}
