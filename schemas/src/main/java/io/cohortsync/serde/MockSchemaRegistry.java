package io.cohortsync.serde;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * An in-memory schema registry for tests, selected with {@code schema.registry.url=mock://<scope>}. Every client
 * of the same scope in the JVM shares one registry, as with Confluent's mock serdes. Ids start at 1 per scope and
 * are registry-wide: the same schema gets the same id under every subject.
 */
public final class MockSchemaRegistry implements SchemaRegistryClient {

    private static final Map<String, MockSchemaRegistry> SCOPES = new ConcurrentHashMap<>();

    private final String scope;
    private final Map<Schema, Integer> idsBySchema = new HashMap<>();
    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<String, List<Integer>> idsBySubject = new HashMap<>();

    private MockSchemaRegistry(final String scope) {
        this.scope = scope;
    }

    /** The registry of {@code scope}, created empty on first use. */
    public static MockSchemaRegistry scope(final String scope) {
        return SCOPES.computeIfAbsent(scope, MockSchemaRegistry::new);
    }

    /** Forgets the scope's schemas; the next {@link #scope} call starts again from id 1. */
    public static void drop(final String scope) {
        SCOPES.remove(scope);
    }

    @Override
    public synchronized int register(final String subject, final Schema schema) {
        final int id = idsBySchema.computeIfAbsent(schema, s -> {
            final int next = schemasById.size() + 1;
            schemasById.put(next, s);
            return next;
        });
        final List<Integer> versions = idsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        if (!versions.contains(id)) {
            versions.add(id);
        }
        return id;
    }

    @Override
    public synchronized int lookupId(final String subject, final Schema schema) {
        final Integer id = idsBySchema.get(schema);
        if (id == null || !idsBySubject.getOrDefault(subject, List.of()).contains(id)) {
            throw new UnknownSchemaException(subject, "Schema " + schema.getFullName()
                    + " is not registered under subject '" + subject + "' in mock registry scope '" + scope + "'");
        }
        return id;
    }

    @Override
    public synchronized Schema schemaById(final int id) {
        final Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new UnknownSchemaIdException(id, "not in mock registry scope '" + scope + "'");
        }
        return schema;
    }

    /** Subjects registered so far, in no particular order. */
    public synchronized List<String> subjects() {
        return List.copyOf(idsBySubject.keySet());
    }

    @Override
    public String toString() {
        return "MockSchemaRegistry(" + SchemaRegistryConfig.MOCK_URL_PREFIX + scope + ')';
    }
}
