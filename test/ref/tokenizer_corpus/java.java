package org.example.cache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** A least-recently-used cache with a fixed capacity. */
public final class LruCache<K, V> extends LinkedHashMap<K, V> {
    private static final long serialVersionUID = 1L;
    private final int capacity;

    public LruCache(int capacity) {
        super(16, 0.75f, true);
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be > 0, got " + capacity);
        }
        this.capacity = capacity;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > capacity;
    }

    public static void main(String[] args) {
        LruCache<String, Integer> c = new LruCache<>(2);
        c.put("a", 1); c.put("b", 2); c.get("a"); c.put("c", 3);
        System.out.printf("%s %b%n", c.keySet(), Objects.isNull(c.get("b")));
    }
}
