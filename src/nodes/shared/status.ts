/**
 * A node's status, sent at most every STATUS_INTERVAL_MS: each update goes to every open editor,
 * and at hundreds of msgs a second the updates cost more than the requests. The last update
 * always arrives (trailing); failures show at once; texts are built only when they are sent. A
 * status the same as the last one is not sent again: a Status node fires on every one.
 */
import type { Node, NodeStatus } from 'node-red';

export const STATUS_INTERVAL_MS = 250;

export type Fill = 'blue' | 'green' | 'yellow' | 'red';
export type StatusText = string | undefined | (() => string | undefined);

export class StatusLight {
  private last = 0;
  /** The last status sent, as JSON. */
  private shown = '';
  private timer: NodeJS.Timeout | undefined;
  /** What the timer will show: the latest update within the interval. */
  private pendingFill: Fill = 'blue';
  private pendingText: StatusText;
  private stopped = false;

  constructor(private readonly node: Node) {}

  /**
   * Blue while working, green on success (undefined text clears), a yellow ring for a result
   * that is not confirmed, a red ring on failure (at once).
   */
  show(fill: Fill, text: StatusText): void {
    if (this.stopped) return;
    const wait = this.last + STATUS_INTERVAL_MS - Date.now();
    if (fill === 'red' || wait <= 0) {
      clearTimeout(this.timer);
      this.apply(fill, text);
      return;
    }
    // One timer per interval, not one per msg: a later update only replaces what it will show.
    this.pendingFill = fill;
    this.pendingText = text;
    this.timer ??= setTimeout(() => this.apply(this.pendingFill, this.pendingText), wait);
  }

  /** On close: no more updates, and a clear status. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.node.status({});
  }

  private apply(fill: Fill, text: StatusText): void {
    this.timer = undefined;
    const shown = typeof text === 'function' ? text() : text;
    const status: NodeStatus =
      shown === undefined ? {} : { fill, shape: fill === 'red' || fill === 'yellow' ? 'ring' : 'dot', text: shown };
    const key = JSON.stringify(status);
    if (key === this.shown) return;
    this.shown = key;
    this.last = Date.now();
    this.node.status(status);
  }
}
