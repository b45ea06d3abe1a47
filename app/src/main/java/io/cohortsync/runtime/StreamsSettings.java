package io.cohortsync.runtime;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.topology.CohortSyncTopology;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;

import java.util.Properties;

/** The Kafka Streams configuration derived from cohort-sync's settings. */
public final class StreamsSettings {

    private static final long MIN_MEMTABLE_BYTES = 1L << 20;
    private static final long MAX_MEMTABLE_BYTES = 16L << 20;

    private StreamsSettings() {
    }

    /** With this instance's {@code application.server}, so any instance can find the owner of a key. */
    public static Properties of(final CohortSyncConfig config, final String bootstrapServers,
                                final HostInfo applicationServer) {
        final Properties props = of(config, bootstrapServers);
        props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer.host() + ":" + applicationServer.port());
        return props;
    }

    public static Properties of(final CohortSyncConfig config, final String bootstrapServers) {
        final Properties props = new Properties();
        props.putAll(config.kafkaPassThrough());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.processingGuarantee());
        props.put(StreamsConfig.ENSURE_EXPLICIT_INTERNAL_RESOURCE_NAMING_CONFIG, true);
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        // The partition assignor builds its own StreamsConfig from the main consumer's configs, which lack this flag,
        // and Kafka Streams 4.3.1 then warns at every start that it is off; passing it there too keeps the log true.
        props.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG),
            true);
        // Log and fail, as the default, but a registry outage is logged once by StreamThreadFailures, not per retry.
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, StreamThreadFailures.ProcessingHandler.class);
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toAbsolutePath().toString());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
        props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, config.standbyReplicas());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.replicationFactor());
        // Changelogs are the state's only durable copy: they take the min.insync.replicas of cohort-sync's own topics.
        props.put(StreamsConfig.topicPrefix(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG),
            TopicBootstrapper.minInSyncReplicas(config.replicationFactor()));
        props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryRocksDbConfig.class);
        props.put(BoundedMemoryRocksDbConfig.BLOCK_CACHE_BYTES, config.rocksDbBlockCacheBytes());
        props.put(BoundedMemoryRocksDbConfig.WRITE_BUFFER_BYTES, config.rocksDbWriteBufferBytes());
        props.put(BoundedMemoryRocksDbConfig.MEMTABLE_BYTES, memtableBytes(config));
        // Internal records are a few KB; batches of them amortise the transaction cost under exactly_once_v2.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
        props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 1000);
        // exactly_once_v2 reads read_committed anyway; said explicitly, since applying the parts of a split webhook
        // batch whose transaction was aborted (RequestProducer) would be wrong under any setting.
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "read_committed");
        props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
            TopicBootstrapper.maxMessageBytes(config.maxRecordBytes()));
        // Repartition and changelog topics take what the producer may send, not the broker's default (1 MiB): a chunk
        // of an accepted 8 MiB request would otherwise fail its send on every retry and stall the partition.
        props.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG),
            TopicBootstrapper.maxMessageBytes(config.maxRecordBytes()));
        props.putAll(config.streamsPassThrough());
        return props;
    }

    /**
     * One store's memtable: {@code rocksdb.memtable-mb}, or by default an equal share of 7/8 of the memtable budget
     * (the line past which RocksDB starts flushing) for every store of every partition, between 1 and 16 MB. An
     * instance that owns only some partitions leaves room to spare.
     */
    public static long memtableBytes(final CohortSyncConfig config) {
        return config.rocksDbMemtableBytes().orElseGet(() -> {
            final long share = config.rocksDbWriteBufferBytes() * 7 / 8
                / ((long) config.partitions() * CohortSyncTopology.PERSISTENT_STORES_PER_PARTITION);
            return Math.max(MIN_MEMTABLE_BYTES, Math.min(MAX_MEMTABLE_BYTES, share));
        });
    }
}
