/**
 * One value per request object, kept on the request itself under a symbol of this slot, so
 * that it dies with the request: a WeakMap entry per request outlives a young request until
 * a full GC (V8's scavenger does not clear ephemerons). A request that cannot take a property
 * (frozen) falls back to a WeakMap.
 */
export class RequestSlot<TValue> {
  readonly #key: symbol;
  #frozen: WeakMap<object, TValue> | undefined;

  constructor(description: string) {
    this.#key = Symbol(description);
  }

  set(request: object, value: TValue): void {
    if (Object.isExtensible(request)) {
      (request as Record<symbol, unknown>)[this.#key] = value;
      return;
    }
    this.#frozen ??= new WeakMap();
    this.#frozen.set(request, value);
  }

  get(request: object): TValue | undefined {
    const value = (request as Record<symbol, TValue | undefined>)[this.#key];
    return value !== undefined ? value : this.#frozen?.get(request);
  }
}
