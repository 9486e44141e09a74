import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // Builds (cached) and starts the Kafka test broker, or uses KAFKA_BROKERS; see test/support/kafka.ts.
    globalSetup: ["test/support/kafka-global-setup.ts"],
  },
});
