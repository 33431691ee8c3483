/** A binary min-heap ordered by `before(a, b)`. */
export class Heap<TItem> {
  private readonly items: TItem[] = [];

  constructor(private readonly before: (a: TItem, b: TItem) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): TItem | undefined {
    return this.items[0];
  }

  push(item: TItem): void {
    const items = this.items;
    items.push(item);
    let at = items.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(items[at] as TItem, items[parent] as TItem)) break;
      [items[at], items[parent]] = [items[parent] as TItem, items[at] as TItem];
      at = parent;
    }
  }

  pop(): TItem | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let best = at;
      if (left < items.length && this.before(items[left] as TItem, items[best] as TItem))
        best = left;
      if (right < items.length && this.before(items[right] as TItem, items[best] as TItem))
        best = right;
      if (best === at) break;
      [items[at], items[best]] = [items[best] as TItem, items[at] as TItem];
      at = best;
    }
    return top;
  }

  /** Every item, in no particular order. */
  values(): readonly TItem[] {
    return this.items;
  }
}

/** A FIFO with O(1) shift (an array with a moving head, compacted now and then). */
export class Fifo<TItem> {
  private items: Array<TItem | undefined> = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: TItem): void {
    this.items.push(item);
  }

  unshift(item: TItem): void {
    if (this.head > 0) {
      this.head -= 1;
      this.items[this.head] = item;
    } else {
      this.items.unshift(item);
    }
  }

  shift(): TItem | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
