package io.cohortsync.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Temporary directories for state and broker data that are deleted when the test JVM exits, for the places a
 * {@code @TempDir} field does not reach (static set-up, fixtures). Each suite leaves hundreds of MB otherwise.
 */
public final class TestDirs {

    private static final List<Path> CREATED = new ArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TestDirs::deleteAll, "test-dirs-cleanup"));
    }

    private TestDirs() {
    }

    public static Path create(final String prefix) {
        try {
            final Path dir = Files.createTempDirectory(prefix);
            synchronized (CREATED) {
                CREATED.add(dir);
            }
            return dir;
        } catch (final IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes {@code dir} and everything in it; what cannot be deleted (still open) is left. */
    public static void deleteRecursively(final Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (final IOException | UncheckedIOException e) {
            // A file removed meanwhile: nothing left to do for it.
        }
    }

    private static void deleteAll() {
        synchronized (CREATED) {
            CREATED.forEach(TestDirs::deleteRecursively);
        }
    }
}
