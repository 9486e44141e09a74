/**
 * Vitest global setup: the Kafka broker the tests share.
 *
 * Contract: with `KAFKA_BROKERS` set, provides that list and builds or starts nothing (it only checks that
 * one of the brokers accepts TCP connections). Otherwise builds tools/kafka-test-broker (cached: a few
 * milliseconds), starts it on a free loopback port and provides its address, PID and binary; teardown
 * stops it. Any failure throws with the build or broker log, which fails the whole run: Kafka tests are
 * never skipped. A broker that dies during the run is reported at once on stderr and fails the run.
 */
import type { TestProject } from "vitest/node";
import { buildTestBroker, canConnect, startTestBroker } from "./kafka-broker-process.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env["KAFKA_BROKERS"]?.trim();
  if (external) {
    await requireReachable(external);
    project.provide("kafkaBrokers", external);
    project.provide("kafkaBrokerPid", null);
    project.provide("kafkaBrokerBinary", null);
    return async () => {};
  }

  const binary = await buildTestBroker();
  const broker = await startTestBroker(binary);
  let died: string | null = null;
  broker.onUnexpectedExit((code, signal) => {
    died = `The Kafka test broker (pid ${broker.pid}, ${broker.address}) exited during the run ` +
      `(${signal ? `signal ${signal}` : `exit code ${code}`}); Kafka tests after this fail to connect.\n` +
      `--- broker log ---\n${broker.log() || "(empty)"}`;
    process.stderr.write(`\n${died}\n`);
    // vitest only logs an error thrown by a teardown; this makes the run fail.
    process.exitCode = 1;
  });
  project.provide("kafkaBrokers", broker.address);
  project.provide("kafkaBrokerPid", broker.pid);
  project.provide("kafkaBrokerBinary", binary);
  return async () => {
    await broker.stop();
    if (died) throw new Error(died);
  };
}

async function requireReachable(brokers: string): Promise<void> {
  const addresses = brokers.split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const address of addresses) {
    const colon = address.lastIndexOf(":");
    const host = colon > 0 ? address.slice(0, colon).replace(/^\[|\]$/g, "") : address;
    const port = colon > 0 ? Number(address.slice(colon + 1)) : 9092;
    if (Number.isInteger(port) && (await canConnect(host, port, 5_000))) return;
  }
  throw new Error(
    `KAFKA_BROKERS=${brokers}: no broker accepts connections. Start that Kafka, fix the list ` +
      `(host:port,host:port), or unset KAFKA_BROKERS to use the local test broker (tools/kafka-test-broker).`,
  );
}
