import { serializedClient } from 'example-notes-app';
import { describe, expect, it } from 'vitest';

describe('serializedClient', () => {
  it('keeps every query out of a lent connection until it is released', async () => {
    const seen: string[] = [];
    const db = {
      closed: false,
      query: async (text: string) => {
        seen.push(text);
        return { rows: [] };
      },
    };
    const client = serializedClient(db);
    expect(client.totalCount).toBe(1);
    const connection = await client.connect();
    await connection.query('BEGIN');
    const outside = client.query('SELECT outside');
    await connection.query('INSERT inside');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['BEGIN', 'INSERT inside']);
    await connection.query('COMMIT');
    connection.release();
    connection.release(); // twice is harmless
    await outside;
    expect(seen).toEqual(['BEGIN', 'INSERT inside', 'COMMIT', 'SELECT outside']);
    db.closed = true;
    expect(client.closed).toBe(true);
  });

  it('releases its turn when a query fails', async () => {
    const client = serializedClient({
      query: async (text: string) => {
        if (text === 'bad') throw new Error('syntax error');
        return { rows: [{ text }] };
      },
    });
    await expect(client.query('bad')).rejects.toThrow('syntax error');
    expect((await client.query('good')).rows).toEqual([{ text: 'good' }]);
  });
});
