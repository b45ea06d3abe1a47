package io.cohortsync.bench;

import io.cohortsync.runtime.BoundedMemoryRocksDbConfig;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.CompactionStyle;
import org.rocksdb.Options;

import java.util.Map;

/**
 * For bench-import experiments only: cohort-sync's {@link BoundedMemoryRocksDbConfig}, then the listed changes on top,
 * to measure what a RocksDB change would do before proposing it. Select it with
 * {@code --set streams-config.rocksdb.config.setter=io.cohortsync.bench.ExperimentalRocksDbConfig
 * --set streams-config.bench.rocksdb.variant=<change>[,<change>...]}, e.g. {@code wbs-mb:4,level}; changes:
 * <ul>
 *   <li>{@code uncached-index}: index and filter blocks live outside the block cache (RocksDB's default), so a
 *   lookup does not go through the shared LRU cache for them; their memory is no longer bounded by the cache.</li>
 *   <li>{@code pin-l0}: keep them in the cache, but pin level-0 files' index and filter blocks and give index and
 *   filter blocks high priority.</li>
 *   <li>{@code filters-for-hits}: Kafka Streams' own setting, no bloom filter on the last level.</li>
 *   <li>{@code level}: level instead of universal compaction.</li>
 *   <li>{@code wbs-mb:<MB>} memtable size, {@code max-wb:<n>} memtables per store, {@code l0-slow:<n>} /
 *   {@code l0-stop:<n>} level-0 write triggers, {@code jobs:<n>} background jobs.</li>
 * </ul>
 */
public final class ExperimentalRocksDbConfig implements RocksDBConfigSetter {

    public static final String VARIANT = "bench.rocksdb.variant";

    private final BoundedMemoryRocksDbConfig base = new BoundedMemoryRocksDbConfig();

    @Override
    public void setConfig(final String storeName, final Options options, final Map<String, Object> configs) {
        base.setConfig(storeName, options, configs);
        final String variant = String.valueOf(configs.getOrDefault(VARIANT, ""));
        final BlockBasedTableConfig tableConfig = (BlockBasedTableConfig) options.tableFormatConfig();
        for (final String change : variant.split(",")) {
            apply(change.strip(), options, tableConfig);
        }
        options.setTableFormatConfig(tableConfig);
    }

    private static void apply(final String change, final Options options, final BlockBasedTableConfig tableConfig) {
        final String[] nameAndValue = change.split(":", 2);
        switch (nameAndValue[0]) {
            case "" -> {
            }
            case "uncached-index" -> tableConfig.setCacheIndexAndFilterBlocks(false);
            case "pin-l0" -> {
                tableConfig.setPinL0FilterAndIndexBlocksInCache(true);
                tableConfig.setCacheIndexAndFilterBlocksWithHighPriority(true);
            }
            case "filters-for-hits" -> options.setOptimizeFiltersForHits(true);
            case "level" -> options.setCompactionStyle(CompactionStyle.LEVEL);
            case "wbs-mb" -> options.setWriteBufferSize(Long.parseLong(nameAndValue[1]) << 20);
            case "max-wb" -> options.setMaxWriteBufferNumber(Integer.parseInt(nameAndValue[1]));
            case "l0-slow" -> options.setLevel0SlowdownWritesTrigger(Integer.parseInt(nameAndValue[1]));
            case "l0-stop" -> options.setLevel0StopWritesTrigger(Integer.parseInt(nameAndValue[1]));
            case "jobs" -> options.setMaxBackgroundJobs(Integer.parseInt(nameAndValue[1]));
            default -> throw new IllegalArgumentException("unknown " + VARIANT + " change '" + change + "'");
        }
    }

    @Override
    public void close(final String storeName, final Options options) {
        base.close(storeName, options);
    }
}
