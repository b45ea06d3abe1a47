package io.cohortsync.serde;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Remembers every answer of a delegate: ids and schemas never change once assigned, so nothing ever expires.
 * Concurrent misses for the same key may each ask the registry once; that is harmless and avoids holding a
 * map lock during an HTTP call.
 */
final class CachingSchemaRegistryClient implements SchemaRegistryClient {

    private record SubjectSchema(String subject, Schema schema) {
    }

    private final SchemaRegistryClient delegate;
    private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

    CachingSchemaRegistryClient(final SchemaRegistryClient delegate) {
        this.delegate = delegate;
    }

    @Override
    public int register(final String subject, final Schema schema) {
        final SubjectSchema key = new SubjectSchema(subject, schema);
        final Integer cached = idsBySubjectSchema.get(key);
        return cached != null ? cached : remember(key, delegate.register(subject, schema));
    }

    @Override
    public int lookupId(final String subject, final Schema schema) {
        final SubjectSchema key = new SubjectSchema(subject, schema);
        final Integer cached = idsBySubjectSchema.get(key);
        return cached != null ? cached : remember(key, delegate.lookupId(subject, schema));
    }

    @Override
    public Schema schemaById(final int id) {
        final Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        final Schema fetched = delegate.schemaById(id);
        final Schema raced = schemasById.putIfAbsent(id, fetched);
        return raced != null ? raced : fetched;
    }

    private int remember(final SubjectSchema key, final int id) {
        idsBySubjectSchema.putIfAbsent(key, id);
        // A serde that writes with a schema often reads its own records back: spare that lookup too.
        schemasById.putIfAbsent(id, key.schema());
        return id;
    }

    @Override
    public String toString() {
        return "Caching(" + delegate + ')';
    }
}
