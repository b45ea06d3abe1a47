package io.cohortsync.bench;

import io.cohortsync.config.CohortSyncConfig;
import io.cohortsync.runtime.BoundedMemoryRocksDbConfig;
import io.cohortsync.runtime.StreamsSettings;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code cohort-sync bench-rocksdb}: what one state-store operation costs on this machine, through the same JNI calls
 * Kafka Streams makes, on stores opened with Kafka Streams' RocksDB defaults and cohort-sync's config setter. It
 * measures twice in one run: with cohort-sync's setting (bloom filters on every level) and with Kafka Streams' own
 * (none on the last level), and prints the ratio. BENCHMARKS.md uses the figures to bound what the import can reach.
 */
@Command(name = "bench-rocksdb", mixinStandardHelpOptions = true,
    description = "Measure RocksDB get (present and absent keys) and put costs on stores configured as cohort-sync's.")
public final class StoreCostBenchmark implements Callable<Integer> {

    private static final int VALUE_BYTES = 60;
    private static final int MULTI_GET_BATCH = 1000;
    /** The Streams settings the service hands the config setter, at cohort-sync's defaults. */
    private static final Map<String, Object> SETTER_CONFIGS = setterConfigs(CohortSyncConfig.of(Map.of(), null));

    @Option(names = "--stores", defaultValue = "8", description = "Stores opened side by side (default: ${DEFAULT-VALUE})")
    int stores;

    @Option(names = "--keys", defaultValue = "300000", description = "Keys loaded into each store (default: ${DEFAULT-VALUE})")
    int keys;

    @Option(names = "--operations", defaultValue = "400000",
        description = "Operations of each kind per round (default: ${DEFAULT-VALUE})")
    int operations;

    @Option(names = "--rounds", defaultValue = "3", description = "Measured rounds; the first is a warm-up (default: ${DEFAULT-VALUE})")
    int rounds;

    /**
     * Microseconds per operation of one configuration's last round; {@code multiGet} is per key of batched reads
     * (half present, half absent), which Kafka Streams' store interface does not offer.
     */
    private record Costs(double getPresent, double getAbsent, double put, double multiGet) {
    }

    @Override
    public Integer call() throws Exception {
        RocksDB.loadLibrary();
        final Path dir = Files.createTempDirectory("cohort-sync-bench-rocksdb");
        try {
            System.out.printf("bench-rocksdb: %d stores x %d keys, %d operations of each kind per round, %d rounds%n",
                stores, keys, operations, rounds);
            final Costs ours = measure(dir.resolve("filters-on-every-level"), false);
            final Costs streams = measure(dir.resolve("streams-default"), true);
            System.out.printf("%n%-44s %10s %10s %10s %10s%n", "us per operation (last round)", "get hit", "get miss",
                "put", "multiGet");
            print("cohort-sync (filters on every level)", ours);
            print("Kafka Streams default (none on last level)", streams);
            System.out.printf("ratio cohort-sync / Kafka Streams default: get hit %.2f, get miss %.2f, put %.2f%n",
                ours.getPresent / streams.getPresent, ours.getAbsent / streams.getAbsent, ours.put / streams.put);
            System.out.printf("ratio multiGet / single gets (mean of hit and miss), cohort-sync settings: %.2f%n",
                ours.multiGet / ((ours.getPresent + ours.getAbsent) / 2));
            return 0;
        } finally {
            deleteRecursively(dir);
        }
    }

    private Costs measure(final Path dir, final boolean streamsFilterDefault) throws RocksDBException, IOException {
        Files.createDirectories(dir);
        final List<RocksDB> dbs = new ArrayList<>();
        final List<Options> options = new ArrayList<>();
        try (WriteOptions writeOptions = new WriteOptions().setDisableWAL(true)) {
            for (int store = 0; store < stores; store++) {
                final Options storeOptions = storeOptions(streamsFilterDefault);
                options.add(storeOptions);
                dbs.add(RocksDB.open(storeOptions, dir.resolve("store-" + store).toString()));
            }
            final byte[] value = new byte[VALUE_BYTES];
            for (final RocksDB db : dbs) {
                for (int i = 0; i < keys; i++) {
                    db.put(writeOptions, presentKey(i), value);
                }
            }
            Costs costs = null;
            for (int round = 0; round < rounds; round++) {
                costs = round(dbs, writeOptions, value, round);
                System.out.printf("  %s round %d: get hit %.2f us, get miss %.2f us, put %.2f us, multiGet %.2f us%n",
                    streamsFilterDefault ? "streams-default" : "cohort-sync", round + 1, costs.getPresent,
                    costs.getAbsent, costs.put, costs.multiGet);
            }
            return costs;
        } finally {
            dbs.forEach(RocksDB::close);
            options.forEach(Options::close);
        }
    }

    private Costs round(final List<RocksDB> dbs, final WriteOptions writeOptions, final byte[] value, final int round)
        throws RocksDBException {
        final SplittableRandom random = new SplittableRandom(round);
        long present = 0;
        long absent = 0;
        long put = 0;
        for (int i = 0; i < operations; i++) {
            final RocksDB db = dbs.get(i % dbs.size());
            final byte[] hit = presentKey(random.nextInt(keys));
            // Within the loaded keys' range, so that no file can be skipped by its key range alone.
            final byte[] fresh = userKey(random.nextInt(keys), "new-" + round + "-" + i);
            final long start = System.nanoTime();
            db.get(hit);
            final long afterHit = System.nanoTime();
            db.get(fresh);
            final long afterMiss = System.nanoTime();
            db.put(writeOptions, fresh, value);
            final long afterPut = System.nanoTime();
            present += afterHit - start;
            absent += afterMiss - afterHit;
            put += afterPut - afterMiss;
        }
        return new Costs(present / 1e3 / operations, absent / 1e3 / operations, put / 1e3 / operations,
            multiGet(dbs, random, round));
    }

    private double multiGet(final List<RocksDB> dbs, final SplittableRandom random, final int round)
        throws RocksDBException {
        final int batches = Math.max(1, operations / MULTI_GET_BATCH);
        long elapsed = 0;
        for (int batch = 0; batch < batches; batch++) {
            final List<byte[]> batchKeys = new ArrayList<>(MULTI_GET_BATCH);
            for (int i = 0; i < MULTI_GET_BATCH; i++) {
                batchKeys.add(i % 2 == 0 ? presentKey(random.nextInt(keys))
                    : userKey(random.nextInt(keys), "absent-" + round));
            }
            final RocksDB db = dbs.get(batch % dbs.size());
            final long start = System.nanoTime();
            db.multiGetAsList(batchKeys);
            elapsed += System.nanoTime() - start;
        }
        return elapsed / 1e3 / ((long) batches * MULTI_GET_BATCH);
    }

    /** Kafka Streams' RocksDBStore defaults (4.3), then cohort-sync's config setter, as the service opens a store. */
    private static Options storeOptions(final boolean streamsFilterDefault) {
        final BlockBasedTableConfig table = new BlockBasedTableConfig();
        table.setBlockSize(4096L);
        table.setFilterPolicy(new BloomFilter());
        final Options options = new Options();
        options.setOptimizeFiltersForHits(true);
        options.setTableFormatConfig(table);
        options.setWriteBufferSize(16L << 20);
        options.setCompressionType(CompressionType.NO_COMPRESSION);
        options.setCompactionStyle(CompactionStyle.UNIVERSAL);
        options.setMaxWriteBufferNumber(3);
        options.setCreateIfMissing(true);
        options.setIncreaseParallelism(Math.max(Runtime.getRuntime().availableProcessors(), 2));
        new BoundedMemoryRocksDbConfig().setConfig("bench", options, SETTER_CONFIGS);
        if (streamsFilterDefault) {
            options.setOptimizeFiltersForHits(true);
        }
        return options;
    }

    private static Map<String, Object> setterConfigs(final CohortSyncConfig defaults) {
        final Map<String, Object> configs = new HashMap<>();
        StreamsSettings.of(defaults, "unused:9092").forEach((key, value) -> configs.put(String.valueOf(key), value));
        return configs;
    }

    private static byte[] presentKey(final int user) {
        return userKey(user, "example.com");
    }

    /** An identity-index-like key; absent keys differ only in their domain, so they sort among the present ones. */
    private static byte[] userKey(final int user, final String domain) {
        return ("bench|i|user" + user + "@" + domain).getBytes(StandardCharsets.UTF_8);
    }

    private static void print(final String name, final Costs costs) {
        System.out.printf("%-44s %10.2f %10.2f %10.2f %10.2f%n", name, costs.getPresent, costs.getAbsent, costs.put,
            costs.multiGet);
    }

    private static void deleteRecursively(final Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (final Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
