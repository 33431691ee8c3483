/**
 * One value per request (or any per-request object), kept on the object itself under a
 * symbol of this slot, so that it dies with the request.
 *
 * When to use: a part's `onRequest` computes something its `onResponse` or `onSend` needs
 * (a timer, a beacon, a span). Why not a `WeakMap<HttpRequest, T>`: V8's young-generation
 * collector cannot free an entry whose key died young, so every request's entry is promoted
 * and waits for a full mark-compact, which costs more than the rest of the request. An
 * object that cannot take a property (frozen) falls back to a WeakMap.
 *
 * @example
 * const started = new RequestSlot<number>('my-app/started');
 * const part = definePart({
 *   name: 'timer',
 *   onRequest: (request) => void started.set(request, performance.now()),
 *   onResponse: (request) => console.log(performance.now() - (started.take(request) ?? 0)),
 * });
 */
export class RequestSlot<TValue> {
  readonly #key: symbol;
  #frozen: WeakMap<object, TValue> | undefined;

  /** `description` names the slot in debuggers; two slots never share a value. */
  constructor(description: string) {
    this.#key = Symbol(description);
  }

  /** Keeps `value` for `request`, replacing what was there. */
  set(request: object, value: TValue): void {
    if (Object.isExtensible(request)) {
      (request as Record<symbol, unknown>)[this.#key] = value;
      return;
    }
    this.#frozen ??= new WeakMap();
    this.#frozen.set(request, value);
  }

  /** The value kept for `request`, if any. */
  get(request: object): TValue | undefined {
    const value = (request as Record<symbol, TValue | undefined>)[this.#key];
    return value !== undefined ? value : this.#frozen?.get(request);
  }

  /** The value kept for `request`, forgotten by the slot (a second `take` gives undefined). */
  take(request: object): TValue | undefined {
    const holder = request as Record<symbol, TValue | undefined>;
    const value = holder[this.#key];
    if (value !== undefined) {
      holder[this.#key] = undefined;
      return value;
    }
    const frozen = this.#frozen?.get(request);
    if (frozen !== undefined) this.#frozen?.delete(request);
    return frozen;
  }
}
