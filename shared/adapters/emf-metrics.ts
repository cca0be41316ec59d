/**
 * Metrics as CloudWatch Embedded Metric Format: one JSON line per data point on stdout,
 * which CloudWatch Logs (Lambda, and ECS with the awslogs driver) turns into metrics with
 * no API call in the request path. Never throws.
 *
 * Why not Powertools Metrics (which the Lambda functions would otherwise use): it puts its
 * `service` dimension in every dimension set (measured with 2.35: even after
 * `clearDefaultDimensions`, `service_undefined`), so it can't write the dimensionless series
 * that the alarms and the dashboard read as one fleet-wide total across the Lambda
 * functions and the fleet worker. This writes the same EMF specification, one line per data
 * point, with both the full dimension set and the stage's alone.
 *
 * Every data point carries its deployment's stage (`Stage`), so dev and prod in one account
 * never add up: the alarms, the dashboard and the fleet's session-slot scaling read the
 * per-stage total (the `[Stage]` dimension set).
 */
import { METRIC_DIMENSIONS, METRICS, type MetricName } from '../contracts.js';
import type { Dimensions, Metrics } from '../metrics/metrics.js';

export interface EmfMetricsOptions {
  /** The deployment's stage (`STAGE`): a dimension of every data point. */
  stage: string;
  /** Dimensions of every data point besides the stage, e.g. `{ service: 'worker' }`. */
  defaults?: Dimensions;
  /** Where lines go; stdout, which CloudWatch Logs reads, unless a test says otherwise. */
  write?: (line: string) => void;
}

export class EmfMetrics implements Metrics {
  private readonly stage: string;
  private readonly defaults: Dimensions;
  private readonly write: (line: string) => void;

  constructor(options: EmfMetricsOptions) {
    this.stage = options.stage;
    this.defaults = options.defaults ?? {};
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  count(name: MetricName, value = 1, dimensions: Dimensions = {}): void {
    this.emit(name, value, 'Count', dimensions);
  }

  timing(name: MetricName, ms: number, dimensions: Dimensions = {}): void {
    this.emit(name, ms, 'Milliseconds', dimensions);
  }

  private emit(name: MetricName, value: number, unit: string, dimensions: Dimensions): void {
    try {
      // The stage last, so no caller's dimension can stand in for it.
      const all = { ...this.defaults, ...dimensions, [METRIC_DIMENSIONS.stage]: this.stage };
      this.write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: METRICS.namespace,
                // The full dimension set for drill-down, and the stage alone: the stage's
                // total that the dashboard, the alarms and the fleet's scaling read.
                Dimensions: [Object.keys(all), [METRIC_DIMENSIONS.stage]],
                Metrics: [{ Name: name, Unit: unit }],
              },
            ],
          },
          ...all,
          [name]: value,
        }),
      );
    } catch {
      // Metrics must never break the work they measure.
    }
  }
}
