import type { Clock } from '../../src/clock.ts';

/** A clock tests move by hand, so "3 minutes after purchase" needs no sleeping. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}
