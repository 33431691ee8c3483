/**
 * A small typed event emitter. Emitting with no listener costs one property read, and a
 * listener that throws cannot break the cache: the error becomes a process warning.
 */
export class Emitter<TEvents extends object> {
  private listeners: { [K in keyof TEvents]?: Array<(event: TEvents[K]) => void> } = {};

  on<K extends keyof TEvents>(name: K, listener: (event: TEvents[K]) => void): () => void {
    const list = this.listeners[name] ?? [];
    this.listeners[name] = [...list, listener];
    return () => {
      const current = this.listeners[name];
      if (current !== undefined) this.listeners[name] = current.filter((l) => l !== listener);
    };
  }

  has(name: keyof TEvents): boolean {
    const list = this.listeners[name];
    return list !== undefined && list.length > 0;
  }

  emit<K extends keyof TEvents>(name: K, event: TEvents[K]): void {
    const list = this.listeners[name];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(
          `@prod/cache: a "${String(name)}" listener threw: ${String(error)}`,
          'ListenerError',
        );
      }
    }
  }
}
