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
 * <p>The memtable budget is shared by every store of every task (seven stores times the partitions). When the
 * memtables together pass 7/8 of it, RocksDB flushes the memtable of whichever store is being <em>written</em>, never
 * an idle one; so each store's memtable is capped ({@link #MEMTABLE_BYTES}, see
 * {@link StreamsSettings#memtableBytes}) so that all of them together stay under that line. Left at RocksDB's 16 MB,
 * the stores a bulk load had filled (profiles, identity index) kept their memtables, and every write to a busy store
 * flushed a tiny memtable and then waited for the flush: the 400k-member import benchmark spent 81% of its stream
 * thread in {@code RocksDB.put} and ran at 6,000 members/s instead of 27,000.
 */
public final class BoundedMemoryRocksDbConfig implements RocksDBConfigSetter {

    public static final String BLOCK_CACHE_BYTES = "cohort-sync.rocksdb.block-cache-bytes";
    public static final String WRITE_BUFFER_BYTES = "cohort-sync.rocksdb.write-buffer-bytes";
    public static final String MEMTABLE_BYTES = "cohort-sync.rocksdb.memtable-bytes";

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
        if (configs.get(MEMTABLE_BYTES) != null) {
            options.setWriteBufferSize(Long.parseLong(String.valueOf(configs.get(MEMTABLE_BYTES))));
        }
        tableConfig.setPinTopLevelIndexAndFilter(true);
        options.setMaxWriteBufferNumber(3);
        // Kafka Streams leaves the last level without bloom filters, which suits stores read for keys they hold. Ours
        // are mostly asked for keys they lack (a member new to a segment, an identity never seen, a profile just
        // created), and without a filter each such miss searches the largest file's index and a data block.
        options.setOptimizeFiltersForHits(false);
        options.setTableFormatConfig(tableConfig);
    }

    @Override
    public void close(final String storeName, final Options options) {
        // The cache and write buffer manager are shared by every store; they live as long as the process.
    }
}
