import type { Logger } from 'pino';

/**
 * The demo target: PGlite (PostgreSQL compiled to WebAssembly) in this
 * process, in memory, served over the PostgreSQL wire protocol on
 * 127.0.0.1 by `@electric-sql/pglite-socket`. Warden logs in to it as it
 * would to any PostgreSQL server (PGlite trusts every login).
 *
 * PGlite is one backend: the socket server multiplexes up to
 * `MAX_CONNECTIONS` client connections onto it, one query at a time, with a
 * transaction holding the backend until it ends. Session state (SET,
 * temporary tables, prepared statement names) is shared between them. That
 * is plenty for a demo, not a stand-in for a real server.
 */

export const MAX_CONNECTIONS = 16;
/** PGlite's only database and user. */
export const DATABASE = 'postgres';
export const USER = 'postgres';

const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'Ken',
  'Margaret',
  'Dennis',
  'Radia',
  'Leslie',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Hamilton',
  'Ritchie',
  'Perlman',
  'Lamport',
];

/** The demo schema and a few dozen rows: customers with PII, and their orders. */
export function seedSql(): string {
  const customers = Array.from({ length: 24 }, (_, i) => {
    const first = FIRST[i % FIRST.length]!;
    const last = LAST[(i * 5 + 3) % LAST.length]!;
    const id = i + 1;
    // SSNs in the 900 area and 555-01xx phone numbers: never real ones.
    const ssn = `9${String(10 + ((id * 37) % 89)).padStart(2, '0')}-${String(10 + ((id * 13) % 89))}-${String(1000 + id * 271).slice(-4)}`;
    const phone = `+1-202-555-01${String(id).padStart(2, '0')}`;
    const email = `${first}.${last}${id}@example.com`.toLowerCase();
    return `(${id}, '${first} ${last}', '${email}', '${ssn}', '${phone}')`;
  });
  const statuses = ['pending', 'paid', 'shipped', 'delivered', 'refunded'];
  const orders = Array.from({ length: 60 }, (_, i) => {
    const id = i + 1;
    const customer = ((i * 7) % 24) + 1;
    const amount = ((id * 4_733) % 50_000) / 100 + 5;
    const status = statuses[(id * 3) % statuses.length]!;
    const day = String(1 + (id % 28)).padStart(2, '0');
    const month = String(1 + (id % 12)).padStart(2, '0');
    return `(${id}, ${customer}, ${amount.toFixed(2)}, '${status}', '2025-${month}-${day} ${String(8 + (id % 10)).padStart(2, '0')}:${String((id * 7) % 60).padStart(2, '0')}:00+00')`;
  });
  return `
CREATE TABLE customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  ssn text NOT NULL,
  phone text
);
CREATE TABLE orders (
  id integer PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers (id),
  amount numeric(10, 2) NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (id, name, email, ssn, phone) VALUES
  ${customers.join(',\n  ')};
INSERT INTO orders (id, customer_id, amount, status, created_at) VALUES
  ${orders.join(',\n  ')};
ANALYZE;
`;
}

export interface DemoDatabase {
  /** host:port of the socket server */
  readonly address: string;
  close(): Promise<void>;
}

export async function startDemoDatabase(options: {
  port: number;
  logger: Logger;
}): Promise<DemoDatabase> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create();
  await db.exec(seedSql());
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: options.port,
    maxConnections: MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw new Error(
      `the demo database cannot listen on 127.0.0.1:${options.port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const address = server.getServerConn();
  options.logger.info(
    { address, maxConnections: MAX_CONNECTIONS },
    'demo database (PGlite) listening',
  );
  return {
    address,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
