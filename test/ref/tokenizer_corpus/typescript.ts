type Shape =
  | { kind: "circle"; radius: number }
  | { kind: "rect"; w: number; h: number };

interface Repo<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  put(item: T): Promise<void>;
}

export function area(s: Shape): number {
  switch (s.kind) {
    case "circle":
      return Math.PI * s.radius ** 2;
    case "rect":
      return s.w * s.h;
  }
}

export class MemoryRepo<T extends { id: string }> implements Repo<T> {
  readonly #items = new Map<string, T>();
  async get(id: string) { return this.#items.get(id); }
  async put(item: T) { this.#items.set(item.id, item); }
}

const shapes: readonly Shape[] = [{ kind: "circle", radius: 1.5 }, { kind: "rect", w: 2, h: 3 }];
console.log(shapes.map(area).reduce((a, b) => a + b, 0).toFixed(3));
