/** Ports of the health check and the pressure report. */

/** Something the health check can ask whether it is up. */
export interface Pingable {
  ping(): Promise<void>;
}
