/** Collects analysis warnings in the order they were found, each message once. */
export class Warnings {
  private readonly seen = new Set<string>();
  private readonly list: string[] = [];

  add(message: string): void {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.list.push(message);
  }

  all(): string[] {
    return [...this.list];
  }
}
