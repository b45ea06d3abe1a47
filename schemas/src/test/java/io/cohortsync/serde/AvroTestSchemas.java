package io.cohortsync.serde;

import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;

/** Two versions of a generic record schema; v2 adds an optional field, compatible both ways. */
final class AvroTestSchemas {

    static final Schema GREETING_V1 = new Schema.Parser().parse("""
            {"type": "record", "name": "Greeting", "namespace": "io.cohortsync.serde.test",
             "fields": [{"name": "text", "type": "string"}]}
            """);

    static final Schema GREETING_V2 = new Schema.Parser().parse("""
            {"type": "record", "name": "Greeting", "namespace": "io.cohortsync.serde.test",
             "fields": [{"name": "text", "type": "string"},
                        {"name": "note", "type": ["null", "string"], "default": null}]}
            """);

    private AvroTestSchemas() {
    }

    static GenericRecord greetingV1(final String text) {
        final GenericRecord record = new GenericData.Record(GREETING_V1);
        record.put("text", text);
        return record;
    }

    static GenericRecord greetingV2(final String text, final String note) {
        final GenericRecord record = new GenericData.Record(GREETING_V2);
        record.put("text", text);
        record.put("note", note);
        return record;
    }
}
