/** Ports of the health check and the pressure report. */

/** Something the health check can ask whether it is up. */
export interface Pingable {
  ping(): Promise<void>;
}

/** A queue's depth: messages waiting (visible or delayed) and in flight. */
export interface QueueDepth {
  depth(): Promise<{ waiting: number; inFlight: number }>;
}
