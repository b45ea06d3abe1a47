package io.cohortsync.serde.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Finds a JDK of at least a given feature version by reading the {@code release} file every JDK ships, so no
 * machine-specific path is hard-coded. Order: {@code APICURIO_JAVA_HOME} (must qualify if set), then
 * {@code JAVA21_HOME}, {@code JAVA_HOME} and the running JVM if they qualify, then the highest qualifying JDK
 * under {@code /usr/lib/jvm}, {@code /opt/java}, {@code ~/.sdkman/candidates/java}.
 */
final class JavaHomes {

    static final String EXPLICIT_ENV = "APICURIO_JAVA_HOME";

    private final Function<String, String> env;
    private final List<Path> scanRoots;
    private final Path runningJavaHome;

    JavaHomes(final Function<String, String> env, final List<Path> scanRoots, final Path runningJavaHome) {
        this.env = env;
        this.scanRoots = scanRoots;
        this.runningJavaHome = runningJavaHome;
    }

    static JavaHomes ofThisMachine() {
        final Path home = Path.of(System.getProperty("user.home"));
        return new JavaHomes(System::getenv,
                List.of(Path.of("/usr/lib/jvm"), Path.of("/opt/java"), home.resolve(".sdkman/candidates/java")),
                Path.of(System.getProperty("java.home")));
    }

    /** The {@code java} executable of a JDK ≥ {@code minVersion}; fails loudly with install hints if none. */
    Path javaExecutable(final int minVersion) {
        final String explicit = env.apply(EXPLICIT_ENV);
        if (explicit != null && !explicit.isBlank()) {
            final Path home = Path.of(explicit);
            if (version(home).orElse(0) < minVersion) {
                throw new IllegalStateException(EXPLICIT_ENV + "=" + explicit + " is not a Java " + minVersion
                        + "+ home (its release file says " + describe(home) + ')');
            }
            return java(home);
        }
        return find(minVersion).map(JavaHomes::java).orElseThrow(() -> noJava(minVersion));
    }

    Optional<Path> find(final int minVersion) {
        final Optional<Path> named = Stream.of(env.apply("JAVA21_HOME"), env.apply("JAVA_HOME"))
                .filter(value -> value != null && !value.isBlank())
                .map(Path::of)
                .filter(home -> qualifies(home, minVersion))
                .findFirst();
        if (named.isPresent()) {
            return named;
        }
        if (qualifies(runningJavaHome, minVersion)) {
            return Optional.of(runningJavaHome);
        }
        return scanned().stream()
                .filter(home -> qualifies(home, minVersion))
                .max(Comparator.comparingInt(home -> version(home).orElse(0)));
    }

    /** The feature version in {@code <home>/release}'s JAVA_VERSION, e.g. 21 for "21.0.5", 8 for "1.8.0_392". */
    static OptionalInt version(final Path home) {
        final Path release = home.resolve("release");
        if (!Files.isRegularFile(release)) {
            return OptionalInt.empty();
        }
        try (Stream<String> lines = Files.lines(release)) {
            return lines.filter(line -> line.startsWith("JAVA_VERSION="))
                    .findFirst()
                    .map(line -> parseFeature(line.substring("JAVA_VERSION=".length())))
                    .orElse(OptionalInt.empty());
        } catch (final IOException | UncheckedIOException e) {
            return OptionalInt.empty();
        }
    }

    static OptionalInt parseFeature(final String javaVersion) {
        final String unquoted = javaVersion.replace("\"", "").trim();
        final String[] parts = unquoted.split("[._\\-+]");
        try {
            final int first = Integer.parseInt(parts[0]);
            return OptionalInt.of(first == 1 && parts.length > 1 ? Integer.parseInt(parts[1]) : first);
        } catch (final NumberFormatException e) {
            return OptionalInt.empty();
        }
    }

    private boolean qualifies(final Path home, final int minVersion) {
        return version(home).orElse(0) >= minVersion && Files.isExecutable(java(home));
    }

    private List<Path> scanned() {
        final List<Path> homes = new ArrayList<>();
        for (final Path root : scanRoots) {
            if (Files.isDirectory(root)) {
                try (Stream<Path> children = Files.list(root)) {
                    children.filter(Files::isDirectory).forEach(homes::add);
                } catch (final IOException e) {
                    // An unreadable root just contributes nothing.
                }
            }
        }
        return homes;
    }

    private IllegalStateException noJava(final int minVersion) {
        return new IllegalStateException("\n\n"
                + "*** Apicurio Registry needs Java " + minVersion + " or newer, and none was found. ***\n"
                + "Looked at $" + EXPLICIT_ENV + ", $JAVA21_HOME, $JAVA_HOME, the running JVM (" + runningJavaHome
                + ", Java " + describe(runningJavaHome) + ") and the JDKs under " + scanRoots + ".\n"
                + "Install one, e.g. on Debian/Ubuntu: apt-get install openjdk-" + minVersion + "-jre-headless "
                + "(or any newer JDK: temurin-" + minVersion + "-jdk, sdk install java " + minVersion + "-tem),\n"
                + "or point " + EXPLICIT_ENV + " at an existing Java " + minVersion + "+ home. The project itself "
                + "still builds and runs on Java 17; only this test registry needs the newer one.\n");
    }

    private static String describe(final Path home) {
        final OptionalInt version = version(home);
        return version.isPresent() ? String.valueOf(version.getAsInt()) : "unknown";
    }

    private static Path java(final Path home) {
        return home.resolve("bin").resolve("java");
    }
}
