package io.cohortsync.serde.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaHomesTest {

    @TempDir
    Path jvms;

    private Path jdk(final String name, final String javaVersion) throws IOException {
        final Path home = Files.createDirectories(jvms.resolve(name));
        Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"" + javaVersion + "\"\n");
        final Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.createFile(java, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        return home;
    }

    private JavaHomes homes(final Map<String, String> env, final Path running) {
        return new JavaHomes(env::get, List.of(jvms), running);
    }

    @Test
    void parsesFeatureVersions() {
        assertThat(JavaHomes.parseFeature("\"21.0.5\"")).hasValue(21);
        assertThat(JavaHomes.parseFeature("\"25\"")).hasValue(25);
        assertThat(JavaHomes.parseFeature("\"1.8.0_392\"")).hasValue(8);
        assertThat(JavaHomes.parseFeature("\"22-ea\"")).hasValue(22);
        assertThat(JavaHomes.parseFeature("\"garbage\"")).isEmpty();
    }

    @Test
    void prefersNamedHomesThenTheHighestScannedOne() throws IOException {
        final Path java17 = jdk("jdk-17", "17.0.15");
        final Path java21 = jdk("jdk-21", "21.0.5");
        final Path java25 = jdk("temurin-25", "25.0.3");

        assertThat(homes(Map.of("JAVA_HOME", java17.toString()), java17).find(21)).contains(java25);
        assertThat(homes(Map.of("JAVA_HOME", java21.toString()), java17).find(21)).contains(java21);
        assertThat(homes(Map.of(JavaHomes.EXPLICIT_ENV, java21.toString()), java17).javaExecutable(21))
                .isEqualTo(java21.resolve("bin/java"));
    }

    @Test
    void failsLoudlyWhenNoJava21IsAround() throws IOException {
        final Path java17 = jdk("jdk-17", "17.0.15");

        assertThatThrownBy(() -> homes(Map.of("JAVA_HOME", java17.toString()), java17).javaExecutable(21))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("needs Java 21 or newer")
                .hasMessageContaining("APICURIO_JAVA_HOME");
        assertThatThrownBy(() -> homes(Map.of(JavaHomes.EXPLICIT_ENV, java17.toString()), java17).javaExecutable(21))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not a Java 21+ home");
    }
}
