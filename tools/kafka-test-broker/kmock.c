/*
 * kmock: standalone Kafka-protocol broker built on librdkafka's mock cluster.
 * Adds: controller id, CreateTopics, DeleteTopics, ListGroups, DescribeGroups, DeleteGroups.
 *
 * Signals: SIGUSR1 sets every broker down (connections closed, new ones refused, data kept in memory),
 * SIGUSR2 sets them up again on the same ports; SIGINT/SIGTERM exit. Each state change is logged to stderr.
 *
 * usage: kmock [--port P] [--brokers N] [--partitions N] [--rebalance-delay MS]
 *              [--retention-bytes B] [--bootstrap-file F] [--parent-pid PID] [topic:partitions ...]
 * --parent-pid: exit when that process (the one that started this broker) ends, even if it was killed.
 */
#include "rdkafka_int.h"
#include "rdkafka_mock.h"
#include "rdkafka_mock_int.h"
#include "rdkafka_buf.h"
#include <signal.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/prctl.h>

void rd_kafka_mock_topic_destroy(rd_kafka_mock_topic_t *mtopic); /* patched to non-static */


/* ---------- CreateTopics v0-v4 ---------- */
static int kmock_handle_CreateTopics(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        const rd_bool_t log_decode_errors = rd_true;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        int16_t ver = rkbuf->rkbuf_reqhdr.ApiVersion;
        int32_t cnt, i, j, k, n, t;
        int32_t timeout;
        int8_t validate = 0;
        struct { rd_kafkap_str_t name; int32_t parts; } *topics = NULL;

        rd_kafka_buf_read_arraycnt(rkbuf, &cnt, 100000);
        topics = rd_calloc(cnt > 0 ? cnt : 1, sizeof(*topics));
        for (i = 0; i < cnt; i++) {
                int16_t rf;
                int32_t acnt, ccnt;
                rd_kafka_buf_read_str(rkbuf, &topics[i].name);
                rd_kafka_buf_read_i32(rkbuf, &topics[i].parts);
                rd_kafka_buf_read_i16(rkbuf, &rf);
                rd_kafka_buf_read_arraycnt(rkbuf, &acnt, -1);
                for (j = 0; j < acnt; j++) {
                        int32_t pid, bcnt, b;
                        rd_kafka_buf_read_i32(rkbuf, &pid);
                        rd_kafka_buf_read_arraycnt(rkbuf, &bcnt, -1);
                        for (k = 0; k < bcnt; k++) rd_kafka_buf_read_i32(rkbuf, &b);
                }
                if (acnt > 0) topics[i].parts = acnt;
                rd_kafka_buf_read_arraycnt(rkbuf, &ccnt, -1);
                for (j = 0; j < ccnt; j++) {
                        rd_kafkap_str_t cn, cv;
                        rd_kafka_buf_read_str(rkbuf, &cn);
                        rd_kafka_buf_read_str(rkbuf, &cv);
                }
        }
        rd_kafka_buf_read_i32(rkbuf, &timeout);
        if (ver >= 1) rd_kafka_buf_read_i8(rkbuf, &validate);

        if (ver >= 2) rd_kafka_buf_write_i32(resp, 0); /* ThrottleTime */
        rd_kafka_buf_write_arraycnt(resp, cnt);
        for (t = 0; t < cnt; t++) {
                rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
                n = topics[t].parts == -1 ? mcluster->defaults.partition_cnt : topics[t].parts;
                if (rd_kafka_mock_topic_find_by_kstr(mcluster, &topics[t].name))
                        err = RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
                else if (n <= 0)
                        err = RD_KAFKA_RESP_ERR_INVALID_PARTITIONS;
                else if (!validate) {
                        char *name;
                        rd_kafka_resp_err_t e2;
                        RD_KAFKAP_STR_DUPA(&name, &topics[t].name);
                        rd_kafka_mock_topic_auto_create(mcluster, name, n, &e2);
                }
                rd_kafka_buf_write_kstr(resp, &topics[t].name);
                rd_kafka_buf_write_i16(resp, err);
                if (ver >= 1) rd_kafka_buf_write_str(resp, err ? rd_kafka_err2str(err) : NULL, -1);
        }
        rd_free(topics);
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
err_parse:
        if (topics) rd_free(topics);
        rd_kafka_buf_destroy(resp);
        return -1;
}

/* ---------- DeleteTopics v0-v3 ---------- */
static int kmock_handle_DeleteTopics(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        const rd_bool_t log_decode_errors = rd_true;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        int16_t ver = rkbuf->rkbuf_reqhdr.ApiVersion;
        int32_t cnt, i, timeout;
        rd_kafkap_str_t *names = NULL;

        rd_kafka_buf_read_arraycnt(rkbuf, &cnt, 100000);
        names = rd_calloc(cnt > 0 ? cnt : 1, sizeof(*names));
        for (i = 0; i < cnt; i++) rd_kafka_buf_read_str(rkbuf, &names[i]);
        rd_kafka_buf_read_i32(rkbuf, &timeout);

        if (ver >= 1) rd_kafka_buf_write_i32(resp, 0);
        rd_kafka_buf_write_arraycnt(resp, cnt);
        for (i = 0; i < cnt; i++) {
                rd_kafka_mock_topic_t *mtopic = rd_kafka_mock_topic_find_by_kstr(mcluster, &names[i]);
                rd_kafka_buf_write_kstr(resp, &names[i]);
                if (mtopic) {
                        rd_kafka_mock_topic_destroy(mtopic);
                        rd_kafka_buf_write_i16(resp, 0);
                } else
                        rd_kafka_buf_write_i16(resp, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
        }
        rd_free(names);
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
err_parse:
        if (names) rd_free(names);
        rd_kafka_buf_destroy(resp);
        return -1;
}

/* ---------- ListGroups v0-v2 ---------- */
static int kmock_handle_ListGroups(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        rd_kafka_mock_cgrp_classic_t *mcgrp;
        int cnt = 0;
        if (rkbuf->rkbuf_reqhdr.ApiVersion >= 1) rd_kafka_buf_write_i32(resp, 0);
        rd_kafka_buf_write_i16(resp, 0);
        TAILQ_FOREACH(mcgrp, &mcluster->cgrps_classic, link) cnt++;
        rd_kafka_buf_write_arraycnt(resp, cnt);
        TAILQ_FOREACH(mcgrp, &mcluster->cgrps_classic, link) {
                rd_kafka_buf_write_str(resp, mcgrp->id, -1);
                rd_kafka_buf_write_str(resp, mcgrp->protocol_type ? mcgrp->protocol_type : "consumer", -1);
        }
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
}

static const char *kmock_state(const rd_kafka_mock_cgrp_classic_t *g) {
        switch (g->state) {
        case RD_KAFKA_MOCK_CGRP_STATE_EMPTY: return "Empty";
        case RD_KAFKA_MOCK_CGRP_STATE_JOINING: return "PreparingRebalance";
        case RD_KAFKA_MOCK_CGRP_STATE_SYNCING: return "CompletingRebalance";
        case RD_KAFKA_MOCK_CGRP_STATE_REBALANCING: return "PreparingRebalance";
        case RD_KAFKA_MOCK_CGRP_STATE_UP: return "Stable";
        }
        return "Unknown";
}

/* ---------- DescribeGroups v0-v2 ---------- */
static int kmock_handle_DescribeGroups(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        const rd_bool_t log_decode_errors = rd_true;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        int32_t cnt, i;
        rd_kafkap_str_t *ids = NULL;

        rd_kafka_buf_read_arraycnt(rkbuf, &cnt, 100000);
        ids = rd_calloc(cnt > 0 ? cnt : 1, sizeof(*ids));
        for (i = 0; i < cnt; i++) rd_kafka_buf_read_str(rkbuf, &ids[i]);

        if (rkbuf->rkbuf_reqhdr.ApiVersion >= 1) rd_kafka_buf_write_i32(resp, 0);
        rd_kafka_buf_write_arraycnt(resp, cnt);
        for (i = 0; i < cnt; i++) {
                rd_kafka_mock_cgrp_classic_t *g = rd_kafka_mock_cgrp_classic_find(mcluster, &ids[i]);
                rd_kafka_buf_write_i16(resp, 0);
                rd_kafka_buf_write_kstr(resp, &ids[i]);
                if (!g) {
                        rd_kafka_buf_write_str(resp, "Dead", -1);
                        rd_kafka_buf_write_str(resp, "", -1);
                        rd_kafka_buf_write_str(resp, "", -1);
                        rd_kafka_buf_write_arraycnt(resp, 0);
                } else {
                        rd_kafka_mock_cgrp_classic_member_t *m;
                        rd_kafka_buf_write_str(resp, kmock_state(g), -1);
                        rd_kafka_buf_write_str(resp, g->protocol_type ? g->protocol_type : "consumer", -1);
                        rd_kafka_buf_write_str(resp, g->protocol_name ? g->protocol_name : "", -1);
                        rd_kafka_buf_write_arraycnt(resp, g->member_cnt);
                        TAILQ_FOREACH(m, &g->members, link) {
                                rd_kafka_buf_write_str(resp, m->id, -1);
                                rd_kafka_buf_write_str(resp, "", -1);          /* client id (not tracked) */
                                rd_kafka_buf_write_str(resp, "/127.0.0.1", -1);
                                rd_kafka_buf_write_kbytes(resp, m->proto_cnt > 0 ? m->protos[0].metadata : NULL);
                                rd_kafka_buf_write_kbytes(resp, m->assignment);
                        }
                }
        }
        rd_free(ids);
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
err_parse:
        if (ids) rd_free(ids);
        rd_kafka_buf_destroy(resp);
        return -1;
}

/* ---------- DeleteGroups v0-v1 ---------- */
static int kmock_handle_DeleteGroups(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        const rd_bool_t log_decode_errors = rd_true;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        int32_t cnt, i;
        rd_kafkap_str_t *ids = NULL;

        rd_kafka_buf_read_arraycnt(rkbuf, &cnt, 100000);
        ids = rd_calloc(cnt > 0 ? cnt : 1, sizeof(*ids));
        for (i = 0; i < cnt; i++) rd_kafka_buf_read_str(rkbuf, &ids[i]);

        rd_kafka_buf_write_i32(resp, 0);
        rd_kafka_buf_write_arraycnt(resp, cnt);
        for (i = 0; i < cnt; i++) {
                rd_kafka_mock_cgrp_classic_t *g = rd_kafka_mock_cgrp_classic_find(mcluster, &ids[i]);
                rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;
                rd_kafka_mock_topic_t *mtopic;
                char *gid;
                RD_KAFKAP_STR_DUPA(&gid, &ids[i]);
                if (g && g->member_cnt > 0)
                        err = RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP;
                else {
                        if (g) { rd_kafka_mock_cgrp_classic_destroy(g); err = 0; }
                        TAILQ_FOREACH(mtopic, &mcluster->topics, link) {
                                int p;
                                for (p = 0; p < mtopic->partition_cnt; p++) {
                                        rd_kafka_mock_partition_t *mp = &mtopic->partitions[p];
                                        rd_kafka_mock_committed_offset_t *co, *tmp;
                                        TAILQ_FOREACH_SAFE(co, &mp->committed_offsets, link, tmp) {
                                                if (!strcmp(co->group, gid)) {
                                                        TAILQ_REMOVE(&mp->committed_offsets, co, link);
                                                        if (co->metadata) rd_kafkap_str_destroy(co->metadata);
                                                        rd_free(co);
                                                        err = 0;
                                                }
                                        }
                                }
                        }
                }
                rd_kafka_buf_write_kstr(resp, &ids[i]);
                rd_kafka_buf_write_i16(resp, err);
        }
        rd_free(ids);
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
err_parse:
        if (ids) rd_free(ids);
        rd_kafka_buf_destroy(resp);
        return -1;
}

/* ---------- LeaveGroup v0-v3 (built-in mock handler misparses v3 batch leave used by kafkajs) ---------- */
static int kmock_handle_LeaveGroup(rd_kafka_mock_connection_t *mconn, rd_kafka_buf_t *rkbuf) {
        rd_kafka_mock_cluster_t *mcluster = mconn->broker->cluster;
        const rd_bool_t log_decode_errors = rd_true;
        rd_kafka_buf_t *resp = rd_kafka_mock_buf_new_response(rkbuf);
        int16_t ver = rkbuf->rkbuf_reqhdr.ApiVersion;
        rd_kafkap_str_t GroupId;
        int32_t cnt = 1, i;
        struct { rd_kafkap_str_t id, inst; } *members = NULL;
        rd_kafka_resp_err_t err = 0;
        rd_kafka_mock_cgrp_classic_t *mcgrp = NULL;
        rd_kafka_mock_broker_t *mrkb;

        rd_kafka_buf_read_str(rkbuf, &GroupId);
        if (ver >= 3) rd_kafka_buf_read_arraycnt(rkbuf, &cnt, 100000);
        members = rd_calloc(cnt > 0 ? cnt : 1, sizeof(*members));
        for (i = 0; i < cnt; i++) {
                rd_kafka_buf_read_str(rkbuf, &members[i].id);
                if (ver >= 3) rd_kafka_buf_read_str(rkbuf, &members[i].inst);
        }

        if (ver >= 1) rd_kafka_buf_write_i32(resp, 0); /* ThrottleTime */
        mrkb = rd_kafka_mock_cluster_get_coord(mcluster, RD_KAFKA_COORD_GROUP, &GroupId);
        if (!mrkb) err = RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
        else if (mrkb != mconn->broker) err = RD_KAFKA_RESP_ERR_NOT_COORDINATOR;
        else if (!(mcgrp = rd_kafka_mock_cgrp_classic_find(mcluster, &GroupId)))
                err = RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;

        if (ver < 3) {
                if (!err) {
                        rd_kafka_mock_cgrp_classic_member_t *m =
                            rd_kafka_mock_cgrp_classic_member_find(mcgrp, &members[0].id);
                        if (!m) err = RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
                        else rd_kafka_mock_cgrp_classic_member_leave(mcgrp, m);
                }
                rd_kafka_buf_write_i16(resp, err);
        } else {
                rd_kafka_buf_write_i16(resp, err);
                rd_kafka_buf_write_arraycnt(resp, err ? 0 : cnt);
                for (i = 0; !err && i < cnt; i++) {
                        rd_kafka_resp_err_t merr = 0;
                        rd_kafka_mock_cgrp_classic_member_t *m =
                            rd_kafka_mock_cgrp_classic_member_find(mcgrp, &members[i].id);
                        if (!m) merr = RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID;
                        else rd_kafka_mock_cgrp_classic_member_leave(mcgrp, m);
                        rd_kafka_buf_write_kstr(resp, &members[i].id);
                        rd_kafka_buf_write_kstr(resp, &members[i].inst);
                        rd_kafka_buf_write_i16(resp, merr);
                }
        }
        rd_free(members);
        rd_kafka_mock_connection_send_response(mconn, resp);
        return 0;
err_parse:
        if (members) rd_free(members);
        rd_kafka_buf_destroy(resp);
        return -1;
}

int main(int argc, char **argv) {
        int brokers = 1, partitions = -1, rebalance_delay = 0, parent_pid = 0, i;
        const char *bsfile = NULL;
        char errstr[512];
        for (i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--port") && i + 1 < argc) setenv("KMOCK_PORT", argv[++i], 1);
                else if (!strcmp(argv[i], "--brokers") && i + 1 < argc) brokers = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--partitions") && i + 1 < argc) partitions = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--rebalance-delay") && i + 1 < argc) rebalance_delay = atoi(argv[++i]);
                else if (!strcmp(argv[i], "--retention-bytes") && i + 1 < argc) setenv("KMOCK_RETENTION_BYTES", argv[++i], 1);
                else if (!strcmp(argv[i], "--bootstrap-file") && i + 1 < argc) bsfile = argv[++i];
                else if (!strcmp(argv[i], "--parent-pid") && i + 1 < argc) parent_pid = atoi(argv[++i]);
                else if (!strncmp(argv[i], "--", 2)) { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
                else break;
        }
        if (!getenv("KMOCK_RETENTION_BYTES")) setenv("KMOCK_RETENTION_BYTES", "1073741824", 1); /* 1 GiB/partition */
        if (!getenv("KMOCK_RETENTION_BATCHES")) setenv("KMOCK_RETENTION_BATCHES", "100000000", 1);

        /* Block SIGINT/SIGTERM/SIGUSR1/SIGUSR2 in all threads (librdkafka threads inherit the mask);
         * the main thread sigwait()s for them. */
        sigset_t sigs;
        sigemptyset(&sigs); sigaddset(&sigs, SIGINT); sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGUSR1); sigaddset(&sigs, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        if (parent_pid > 0) {
                /* SIGTERM (handled by sigwait below) when the parent dies; it may have died already. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() != parent_pid) { fprintf(stderr, "kmock: parent %d is gone\n", parent_pid); return 1; }
        }

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (getenv("KMOCK_DEBUG")) {
                rd_kafka_conf_set(conf, "log_level", "7", errstr, sizeof(errstr));
                rd_kafka_conf_set(conf, "debug", getenv("KMOCK_DEBUG"), errstr, sizeof(errstr));
        } else
                rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
        if (!mc) { fprintf(stderr, "kmock: failed to create mock cluster (port in use?)\n"); return 1; }

        mtx_lock(&mc->lock);
        mc->controller_id = 1;
        if (partitions > 0) mc->defaults.partition_cnt = partitions;
        mc->api_handlers[RD_KAFKAP_CreateTopics]   = (struct rd_kafka_mock_api_handler){0, 4, -1, kmock_handle_CreateTopics};
        mc->api_handlers[RD_KAFKAP_DeleteTopics]   = (struct rd_kafka_mock_api_handler){0, 3, -1, kmock_handle_DeleteTopics};
        mc->api_handlers[RD_KAFKAP_ListGroups]     = (struct rd_kafka_mock_api_handler){0, 2, -1, kmock_handle_ListGroups};
        mc->api_handlers[RD_KAFKAP_DescribeGroups] = (struct rd_kafka_mock_api_handler){0, 2, -1, kmock_handle_DescribeGroups};
        mc->api_handlers[RD_KAFKAP_LeaveGroup]     = (struct rd_kafka_mock_api_handler){0, 3, -1, kmock_handle_LeaveGroup};
        mc->api_handlers[RD_KAFKAP_DeleteGroups]   = (struct rd_kafka_mock_api_handler){0, 1, -1, kmock_handle_DeleteGroups};
        mtx_unlock(&mc->lock);
        rd_kafka_mock_group_initial_rebalance_delay_ms(mc, rebalance_delay);

        for (; i < argc; i++) {
                char name[256]; int parts = partitions > 0 ? partitions : 1;
                const char *c = strchr(argv[i], ':');
                if (c) { snprintf(name, sizeof(name), "%.*s", (int)(c - argv[i]), argv[i]); parts = atoi(c + 1); }
                else snprintf(name, sizeof(name), "%s", argv[i]);
                rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
                if (e) fprintf(stderr, "topic_create %s: %s\n", name, rd_kafka_err2str(e));
        }
        const char *bs = rd_kafka_mock_cluster_bootstraps(mc);
        printf("%s\n", bs); fflush(stdout);
        if (bsfile) { FILE *f = fopen(bsfile, "w"); if (f) { fprintf(f, "%s\n", bs); fclose(f); } }
        for (;;) {
                int sig;
                rd_kafka_resp_err_t e;
                if (sigwait(&sigs, &sig) != 0) continue;
                if (sig == SIGUSR1) {
                        e = rd_kafka_mock_broker_set_down(mc, -1); /* -1: every broker */
                        fprintf(stderr, "kmock: brokers down: %s\n", rd_kafka_err2str(e));
                } else if (sig == SIGUSR2) {
                        e = rd_kafka_mock_broker_set_up(mc, -1);
                        fprintf(stderr, "kmock: brokers up: %s\n", rd_kafka_err2str(e));
                } else
                        break;
        }
        _exit(0); /* in-memory broker: nothing to flush; skip slow (~2s) librdkafka teardown */
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        return 0;
}
