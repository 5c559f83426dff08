// A minimal typed emitter with no Node 'events' dependency, so the client runs in browsers too.
export type Listener<T> = (value: T) => void;

export class Emitter<T> {
  readonly #listeners = new Set<Listener<T>>();

  on(listener: Listener<T>): () => void {
    // Wrapped so the same function may be added twice and removed once per subscription.
    const entry: Listener<T> = (value) => listener(value);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  emit(value: T): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(value);
      } catch (error) {
        // As EventTarget does: report the listener's bug without stopping the frame's other messages.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
