/** Statements run one after another on a connection of their own, closed afterwards (schemas made and dropped). */
import pg from 'pg';

export async function admin(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}
