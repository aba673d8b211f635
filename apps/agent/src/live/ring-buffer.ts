/**
 * The most recent `capacity` items, oldest first. Items carry increasing ids, so finding those
 * after an id is a binary search.
 */
export class RingBuffer<T extends { id: number }> {
  private readonly items: Array<T | undefined>;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds an item; returns the oldest one when it had to make room. */
  push(item: T): T | undefined {
    if (this.count < this.capacity) {
      this.items[(this.start + this.count) % this.capacity] = item;
      this.count++;
      return undefined;
    }
    const evicted = this.items[this.start];
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  private at(index: number): T {
    return this.items[(this.start + index) % this.capacity]!;
  }

  /** The items with ids above `id`, oldest first. */
  after(id: number): T[] {
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.at(middle).id <= id) low = middle + 1;
      else high = middle;
    }
    const found: T[] = [];
    for (let i = low; i < this.count; i++) found.push(this.at(i));
    return found;
  }
}
