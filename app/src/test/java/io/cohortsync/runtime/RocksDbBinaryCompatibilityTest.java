package io.cohortsync.runtime;

import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The parent pom pins a newer rocksdbjni than the one kafka-streams was built against (README, Design notes). This
 * reads kafka-streams' class files and checks that every RocksJava method, constructor and field they link to exists
 * in the RocksJava on our classpath, so that a version bump cannot leave a {@code NoSuchMethodError} for production.
 */
class RocksDbBinaryCompatibilityTest {

    /**
     * Gone from RocksDB 10.x. Kafka Streams' options adapter only passes them through, so they are reached only by a
     * config setter that sets this option, and cohort-sync's does not.
     */
    private static final Set<String> REMOVED_PASS_THROUGHS = Set.of(
        "org/rocksdb/ColumnFamilyOptions.maxWriteBufferNumberToMaintain:()I",
        "org/rocksdb/ColumnFamilyOptions.setMaxWriteBufferNumberToMaintain:(I)Lorg/rocksdb/ColumnFamilyOptions;");

    private static final int UTF8 = 1;
    private static final int CLASS = 7;
    private static final int FIELD_REF = 9;
    private static final int METHOD_REF = 10;
    private static final int INTERFACE_METHOD_REF = 11;

    @Test
    void everyRocksJavaMemberKafkaStreamsLinksToIsOnTheClasspath() throws IOException, URISyntaxException {
        final Set<String> references = rocksDbReferencesOf(jarOf(KafkaStreams.class));
        final List<String> missing = references.stream().filter(reference -> !resolves(reference)).toList();

        assertThat(references).as("RocksJava members kafka-streams links to").hasSizeGreaterThan(300);
        assertThat(missing).isSubsetOf(REMOVED_PASS_THROUGHS);
    }

    private static Path jarOf(final Class<?> type) throws URISyntaxException {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** {@code owner.name:descriptor} of every reference to a member of an {@code org/rocksdb} class. */
    private static Set<String> rocksDbReferencesOf(final Path jar) throws IOException {
        final Set<String> references = new TreeSet<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            for (final JarEntry entry : Collections.list(file.entries())) {
                if (entry.getName().endsWith(".class")) {
                    try (DataInputStream in = new DataInputStream(new BufferedInputStream(file.getInputStream(entry)))) {
                        memberReferences(in).stream().filter(ref -> ref.startsWith("org/rocksdb/")).forEach(references::add);
                    }
                }
            }
        }
        return references;
    }

    /** Reads a class file's constant pool (JVMS 4.4) and returns its field and method references. */
    private static List<String> memberReferences(final DataInputStream in) throws IOException {
        in.readInt();
        in.readUnsignedShort();
        in.readUnsignedShort();
        final int count = in.readUnsignedShort();
        final String[] texts = new String[count];
        final int[][] links = new int[count][];
        for (int index = 1; index < count; index++) {
            final int tag = in.readUnsignedByte();
            // Tags besides the named ones, read only to step past them: Integer/Float (3, 4), Long/Double (5, 6; two slots), String (8), NameAndType (12),
            // MethodHandle (15), MethodType (16), Dynamic and InvokeDynamic (17, 18), Module and Package (19, 20).
            switch (tag) {
                case UTF8 -> texts[index] = in.readUTF();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    index++;
                }
                case CLASS, 8, 16, 19, 20 -> links[index] = new int[] {tag, in.readUnsignedShort()};
                case FIELD_REF, METHOD_REF, INTERFACE_METHOD_REF, 12, 17, 18 ->
                    links[index] = new int[] {tag, in.readUnsignedShort(), in.readUnsignedShort()};
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag);
            }
        }
        final List<String> references = new ArrayList<>();
        for (final int[] link : links) {
            if (link != null && (link[0] == FIELD_REF || link[0] == METHOD_REF || link[0] == INTERFACE_METHOD_REF)) {
                final String owner = texts[links[link[1]][1]];
                final int[] nameAndType = links[link[2]];
                references.add(owner + "." + texts[nameAndType[1]] + ":" + texts[nameAndType[2]]);
            }
        }
        return references;
    }

    private static boolean resolves(final String reference) {
        final int dot = reference.indexOf('.');
        final int colon = reference.indexOf(':', dot);
        final String name = reference.substring(dot + 1, colon);
        final String descriptor = reference.substring(colon + 1);
        final ClassLoader loader = RocksDbBinaryCompatibilityTest.class.getClassLoader();
        final Class<?> owner;
        try {
            owner = Class.forName(reference.substring(0, dot).replace('/', '.'), false, loader);
        } catch (final ClassNotFoundException e) {
            return false;
        }
        if (!descriptor.startsWith("(")) {
            return hierarchyOf(owner).stream().anyMatch(type ->
                Arrays.stream(type.getDeclaredFields()).map(Field::getName).anyMatch(name::equals));
        }
        final MethodType method = MethodType.fromMethodDescriptorString(descriptor, loader);
        if ("<init>".equals(name)) {
            return Arrays.stream(owner.getDeclaredConstructors())
                .anyMatch(constructor -> Arrays.equals(constructor.getParameterTypes(), method.parameterArray()));
        }
        return hierarchyOf(owner).stream().flatMap(type -> Arrays.stream(type.getDeclaredMethods())).anyMatch(
            candidate -> candidate.getName().equals(name) && matches(candidate, method));
    }

    private static boolean matches(final Method candidate, final MethodType method) {
        return Arrays.equals(candidate.getParameterTypes(), method.parameterArray())
            && candidate.getReturnType().equals(method.returnType());
    }

    /** The type, its superclasses and every interface they implement; Object too, which interfaces inherit from. */
    private static List<Class<?>> hierarchyOf(final Class<?> type) {
        final List<Class<?>> hierarchy = new ArrayList<>();
        final Deque<Class<?>> pending = new ArrayDeque<>(List.of(type, Object.class));
        while (!pending.isEmpty()) {
            final Class<?> next = pending.pop();
            if (!hierarchy.contains(next)) {
                hierarchy.add(next);
                if (next.getSuperclass() != null) {
                    pending.add(next.getSuperclass());
                }
                pending.addAll(List.of(next.getInterfaces()));
            }
        }
        return hierarchy;
    }
}
