/**
 * Port: the metrics the platform emits. Names come from the contracts' registry (a name
 * outside it is a type error), so dashboards and alarms can never point at a metric that
 * is not emitted under that name.
 */
import type { MetricName } from '../contracts.js';

export type Dimensions = Record<string, string>;

export interface Metrics {
  count(name: MetricName, value?: number, dimensions?: Dimensions): void;
  timing(name: MetricName, ms: number, dimensions?: Dimensions): void;
}

export const noopMetrics: Metrics = { count: () => {}, timing: () => {} };

/** Records every call, for tests. */
export class RecordingMetrics implements Metrics {
  readonly calls: {
    name: MetricName;
    value: number;
    unit: 'Count' | 'Milliseconds';
    dimensions: Dimensions;
  }[] = [];
  count(name: MetricName, value = 1, dimensions: Dimensions = {}): void {
    this.calls.push({ name, value, unit: 'Count', dimensions });
  }
  timing(name: MetricName, ms: number, dimensions: Dimensions = {}): void {
    this.calls.push({ name, value: ms, unit: 'Milliseconds', dimensions });
  }
  /** Sum of a metric, over calls whose dimensions include `dimensions`. */
  total(name: MetricName, dimensions: Dimensions = {}): number {
    return this.calls
      .filter((c) => c.name === name && Object.entries(dimensions).every(([k, v]) => c.dimensions[k] === v))
      .reduce((n, c) => n + c.value, 0);
  }
}
