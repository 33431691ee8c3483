/** The commands @prod/config sends, as ioredis (5 or 6) types them; ioredis is never imported. */
export interface RedisCommandClient {
  get(key: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
  smembers(key: string): Promise<string[]>;
  sismember(key: string, member: string): Promise<number>;
  multi(commands: (string | number)[][]): { exec(): Promise<unknown> };
  /** Makes the subscriber connection when none is given. */
  duplicate(): RedisSubscriberClient;
}

/** A connection in subscriber mode (ioredis: `redis.duplicate()`). */
export interface RedisSubscriberClient {
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'message', listener: (channel: string, message: string) => void): unknown;
  quit(): Promise<unknown>;
}

/** Subscribes `subscriber` to `channel` and calls `onMessage` for its messages; returns the stop. */
export async function listen(
  subscriber: RedisSubscriberClient,
  channel: string,
  onMessage: (message: string) => void,
): Promise<() => Promise<void>> {
  const listener = (from: string, message: string): void => {
    if (from === channel) onMessage(message);
  };
  subscriber.on('message', listener);
  try {
    await subscriber.subscribe(channel);
  } catch (error) {
    subscriber.removeListener('message', listener);
    throw error;
  }
  return async () => {
    subscriber.removeListener('message', listener);
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
