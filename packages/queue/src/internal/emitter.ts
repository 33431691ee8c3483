import type { Unsubscribe } from '../types.js';

/**
 * A small typed event emitter. A listener that throws cannot break the queue that emits: the
 * error becomes a process warning.
 */
export class Emitter<TEvents extends object> {
  private listeners: { [K in keyof TEvents]?: Array<(event: TEvents[K]) => void> } = {};

  on<K extends keyof TEvents>(name: K, listener: (event: TEvents[K]) => void): Unsubscribe {
    this.listeners[name] = [...(this.listeners[name] ?? []), listener];
    return () => {
      const current = this.listeners[name];
      if (current !== undefined) this.listeners[name] = current.filter((l) => l !== listener);
    };
  }

  has(name: keyof TEvents): boolean {
    return (this.listeners[name]?.length ?? 0) > 0;
  }

  emit<K extends keyof TEvents>(name: K, event: TEvents[K]): void {
    const list = this.listeners[name];
    if (list === undefined) return;
    for (const listener of list) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(
          `@prod/queue: a "${String(name)}" listener threw: ${String(error)}`,
          'ListenerError',
        );
      }
    }
  }
}
