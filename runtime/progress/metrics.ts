/**
 * A run's Prometheus metrics, fed from each batch's progress (prom-client).
 *
 * Contract: `createPipelineMetrics(options)` makes one prom-client `Registry` for one run (never
 * the library's global registry, so two runs in one process keep apart). `record(progress, rates)`
 * updates every metric from one batch's progress, synchronously, so a scrape (which prom-client
 * completes within one turn of the event loop) never sees half a batch. Every metric carries a
 * `pipeline` label (the pipeline's name); the rest are below (`docs/operations.md` explains each).
 *
 * - counters: `streamc_batches_total`, `streamc_input_rows_total{source}`,
 *   `streamc_output_rows_total{sink}`, `streamc_dead_letters_total{reason}` (every reason, from 0);
 * - gauges, as of the last batch: `streamc_last_batch_id`, `streamc_input_rows_per_second`,
 *   `streamc_processed_rows_per_second`, `streamc_output_rows_per_second`,
 *   `streamc_last_batch_duration_seconds`, `streamc_state_rows{operator}`,
 *   `streamc_state_memory_bytes{operator}`, `streamc_offsets_behind_latest{source}`;
 * - `streamc_watermark_lag_seconds`: wall clock minus the watermark, computed when scraped (so it
 *   grows while no batch runs); absent until there is a watermark;
 * - `streamc_trigger_interval_seconds`: the `every` trigger's interval (absent for other triggers);
 * - a histogram `streamc_batch_duration_seconds` of `durationMs.triggerExecution`;
 * - prom-client's default process and Node.js metrics (`process_*`, `nodejs_*`).
 *
 * Counters and sources, sinks and reasons known from the plan start at 0, so `rate()` works from
 * the first scrape; gauges without a value yet (no batch, no watermark) have no sample.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { BatchProgress } from "../engine/pipeline.ts";
import { rejectReasons } from "../deadletter.ts";
import type { BatchRates } from "./derived-figures.ts";
import { watermarkLagSeconds } from "./derived-figures.ts";

export interface PipelineMetricsOptions {
  /** The pipeline's name: every metric's `pipeline` label. */
  pipeline: string;
  /** The plan's source and sink names, whose counters start at 0. */
  sources: readonly string[];
  sinks: readonly string[];
  /** The `every` trigger's interval in seconds; undefined for other triggers. */
  triggerIntervalSeconds: number | undefined;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
}

export interface PipelineMetrics {
  readonly registry: Registry;
  record(progress: BatchProgress, rates: BatchRates): void;
  /** The exposition text (format 0.0.4) and its content type. */
  scrape(): Promise<{ contentType: string; text: string }>;
}

/** Bucket bounds of `streamc_batch_duration_seconds`: 5 ms to 5 minutes. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createPipelineMetrics(options: PipelineMetricsOptions): PipelineMetrics {
  const registry = new Registry();
  const pipeline = options.pipeline;
  const now = options.now ?? Date.now;
  const registers = [registry];
  let watermark: string | undefined;

  const batches = new Counter({ name: "streamc_batches_total", help: "Batches run by this process.", labelNames: ["pipeline"], registers });
  const lastBatchId = new Gauge({ name: "streamc_last_batch_id", help: "The id of the last batch that finished.", labelNames: ["pipeline"], registers });
  const inputRows = new Counter({ name: "streamc_input_rows_total", help: "Rows read that passed schema enforcement, per source.", labelNames: ["pipeline", "source"], registers });
  const outputRows = new Counter({ name: "streamc_output_rows_total", help: "Rows given to each sink.", labelNames: ["pipeline", "sink"], registers });
  const inputRate = new Gauge({
    name: "streamc_input_rows_per_second",
    help: "Input rows of the last batch over the time since the batch before it started (the rate data arrives at).",
    labelNames: ["pipeline"],
    registers,
  });
  const processedRate = new Gauge({
    name: "streamc_processed_rows_per_second",
    help: "Input rows of the last batch over that batch's duration (the rate the pipeline works at).",
    labelNames: ["pipeline"],
    registers,
  });
  const outputRate = new Gauge({
    name: "streamc_output_rows_per_second",
    help: "Rows the last batch gave its sinks, over the time since the batch before it started.",
    labelNames: ["pipeline"],
    registers,
  });
  const duration = new Histogram({ name: "streamc_batch_duration_seconds", help: "How long each batch took (durationMs.triggerExecution).", labelNames: ["pipeline"], buckets: DURATION_BUCKETS, registers });
  const lastDuration = new Gauge({ name: "streamc_last_batch_duration_seconds", help: "How long the last batch took.", labelNames: ["pipeline"], registers });
  const triggerInterval = new Gauge({ name: "streamc_trigger_interval_seconds", help: "The every trigger's interval: a batch duration above it means the pipeline falls behind.", labelNames: ["pipeline"], registers });
  new Gauge({
    name: "streamc_watermark_lag_seconds",
    help: "Wall clock minus the watermark, when scraped.",
    labelNames: ["pipeline"],
    registers,
    collect() {
      const lag = watermarkLagSeconds(watermark, now());
      if (lag !== undefined) this.set({ pipeline }, lag);
    },
  });
  const stateRows = new Gauge({ name: "streamc_state_rows", help: "Rows (or groups) a stateful operator holds.", labelNames: ["pipeline", "operator"], registers });
  const stateMemory = new Gauge({ name: "streamc_state_memory_bytes", help: "An estimate of a stateful operator's memory.", labelNames: ["pipeline", "operator"], registers });
  const deadLetters = new Counter({ name: "streamc_dead_letters_total", help: "Records sent to the dead letter (or counted without one), by reason.", labelNames: ["pipeline", "reason"], registers });
  const behind = new Gauge({ name: "streamc_offsets_behind_latest", help: "Records (or files) available in a source but not read yet, after the last batch.", labelNames: ["pipeline", "source"], registers });
  collectDefaultMetrics({ register: registry, labels: { pipeline } });

  batches.inc({ pipeline }, 0);
  for (const source of options.sources) inputRows.inc({ pipeline, source }, 0);
  for (const sink of options.sinks) outputRows.inc({ pipeline, sink }, 0);
  for (const reason of rejectReasons) deadLetters.inc({ pipeline, reason }, 0);
  if (options.triggerIntervalSeconds !== undefined) triggerInterval.set({ pipeline }, options.triggerIntervalSeconds);

  return {
    registry,
    record(progress, rates) {
      batches.inc({ pipeline });
      lastBatchId.set({ pipeline }, progress.batchId);
      for (const source of progress.sources) {
        inputRows.inc({ pipeline, source: source.name }, source.numInputRows);
        behind.set({ pipeline, source: source.name }, source.metrics.offsetsBehindLatest);
      }
      for (const sink of progress.sink) outputRows.inc({ pipeline, sink: sink.description }, sink.numOutputRows);
      inputRate.set({ pipeline }, rates.inputRowsPerSecond);
      processedRate.set({ pipeline }, rates.processedRowsPerSecond);
      outputRate.set({ pipeline }, rates.outputRowsPerSecond);
      const seconds = progress.durationMs.triggerExecution / 1000;
      duration.observe({ pipeline }, seconds);
      lastDuration.set({ pipeline }, seconds);
      for (const operator of progress.stateOperators) {
        stateRows.set({ pipeline, operator: operator.operatorName }, operator.numRowsTotal);
        stateMemory.set({ pipeline, operator: operator.operatorName }, operator.memoryUsedBytes);
      }
      for (const [reason, count] of Object.entries(progress.deadLetters)) {
        if (count) deadLetters.inc({ pipeline, reason }, count);
      }
      watermark = progress.eventTime.watermark;
    },
    async scrape() {
      return { contentType: registry.contentType, text: await registry.metrics() };
    },
  };
}
