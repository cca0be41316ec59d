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
 * point, with both the full dimension set and the empty one.
 */
import { METRICS, type MetricName } from '../contracts.js';
import type { Dimensions, Metrics } from '../metrics/metrics.js';

export class EmfMetrics implements Metrics {
  constructor(
    private readonly defaults: Dimensions = {},
    private readonly write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  count(name: MetricName, value = 1, dimensions: Dimensions = {}): void {
    this.emit(name, value, 'Count', dimensions);
  }

  timing(name: MetricName, ms: number, dimensions: Dimensions = {}): void {
    this.emit(name, ms, 'Milliseconds', dimensions);
  }

  private emit(name: MetricName, value: number, unit: string, dimensions: Dimensions): void {
    try {
      const all = { ...this.defaults, ...dimensions };
      this.write(
        JSON.stringify({
          _aws: {
            Timestamp: Date.now(),
            CloudWatchMetrics: [
              {
                Namespace: METRICS.namespace,
                // The full dimension set for drill-down, and none: the total that the
                // dashboard and the alarms read.
                Dimensions: [Object.keys(all), []],
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
