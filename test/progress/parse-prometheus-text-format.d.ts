/**
 * Types for `parse-prometheus-text-format` (which ships none): the prom2json-style families it
 * returns. Values stay strings, as in the text (`"NaN"`, `"+Inf"` included).
 */
declare module "parse-prometheus-text-format" {
  export interface Sample {
    value: string;
    labels?: Record<string, string>;
  }
  export interface HistogramSample {
    buckets: Record<string, string>;
    count: string;
    sum: string;
    labels?: Record<string, string>;
  }
  export interface MetricFamily {
    name: string;
    help: string;
    type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
    metrics: (Sample | HistogramSample)[];
  }
  export default function parsePrometheusTextFormat(text: string): MetricFamily[];
}
