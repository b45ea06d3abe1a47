package io.cohortsync.runtime;

import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class BoundedMemoryRocksDbConfigTest {

    static {
        RocksDB.loadLibrary();
    }

    @Test
    void everyStoreGetsItsMemtableShareAndFiltersOnEveryLevel() {
        try (Options options = streamsDefaults()) {
            new BoundedMemoryRocksDbConfig().setConfig("membership-members", options, Map.of(
                BoundedMemoryRocksDbConfig.BLOCK_CACHE_BYTES, 64L << 20,
                BoundedMemoryRocksDbConfig.WRITE_BUFFER_BYTES, 32L << 20,
                BoundedMemoryRocksDbConfig.MEMTABLE_BYTES, 3L << 20));

            assertThat(options.writeBufferSize()).isEqualTo(3L << 20);
            assertThat(options.maxWriteBufferNumber()).isEqualTo(3);
            assertThat(options.optimizeFiltersForHits()).isFalse();
            assertThat(((BlockBasedTableConfig) options.tableFormatConfig()).cacheIndexAndFilterBlocks()).isTrue();
        }
    }

    /** What Kafka Streams' RocksDBStore has set before it calls the config setter. */
    private static Options streamsDefaults() {
        final Options options = new Options();
        options.setTableFormatConfig(new BlockBasedTableConfig());
        options.setWriteBufferSize(16L << 20);
        options.setOptimizeFiltersForHits(true);
        return options;
    }
}
