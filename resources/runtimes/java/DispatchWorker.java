// Dispatch Console - java worker shim.
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Loads one Dispatch java handler (a class implementing java.util.function.BiFunction<Context, Payload, Result>)
// and serves invocations over fds 3 (requests) and 4 (replies), as described in ../PROTOCOL.md.
//
// The server compiles this file once per JDK into a cache directory:
//   javac -cp /usr/share/java/gson.jar -d <cache> DispatchWorker.java
// and starts a worker (cwd = function dir; env DISPATCH_FUNCTION_DIR, DISPATCH_HANDLER) with:
//   java -cp <cache>:/usr/share/java/gson.jar:<function classes dir>:<function dir>/lib/* dispatch.worker.DispatchWorker
package dispatch.worker;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.reflect.TypeToken;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

public final class DispatchWorker {
    private static final int MAX_FRAME = 64 * 1024 * 1024;
    private static final int MAX_LINES = 1000;
    private static final int MAX_LINE_BYTES = 8192;
    private static final int MAX_TRACE_LINES = 100; // a StackOverflowError has a thousand identical frames

    /** Handler load failures, reported in the handshake. */
    static final class LoadError extends Exception {
        private static final long serialVersionUID = 1L;

        LoadError(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Behind System.out/System.err for the worker's lifetime. While an invocation runs ({@code active}) it keeps at
     * most the lines the protocol returns, cutting while writing so that a chatty handler cannot grow the worker's
     * memory without bound; otherwise it passes output through to the real stream, i.e. the worker log.
     * Installed once rather than per invocation so that streams captured at class-initialisation time (loggers'
     * console handlers) are captured too.
     */
    static final class Capture extends OutputStream {
        private final OutputStream passthrough;
        private volatile boolean active;
        private final List<String> lines = new ArrayList<>();
        private final ByteArrayOutputStream current = new ByteArrayOutputStream();
        private long currentDropped;
        private boolean currentOpen; // the current line has text, even if none of it was kept
        private long extraLines;
        private boolean dirty;

        Capture(OutputStream passthrough) {
            this.passthrough = passthrough;
        }

        void setActive(boolean active) {
            this.active = active;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void flush() throws IOException {
            if (!active) {
                passthrough.flush();
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (!active) {
                passthrough.write(b, off, len);
                return;
            }
            dirty |= len > 0;
            int end = off + len;
            int start = off;
            for (int i = off; i < end; i++) {
                if (b[i] == '\n') {
                    append(b, start, i - start);
                    endLine();
                    start = i + 1;
                }
            }
            append(b, start, end - start);
        }

        private void append(byte[] b, int off, int len) {
            if (len == 0) {
                return;
            }
            currentOpen = true;
            if (lines.size() >= MAX_LINES) {
                return;
            }
            int room = MAX_LINE_BYTES - current.size();
            int kept = Math.max(0, Math.min(room, len));
            current.write(b, off, kept);
            currentDropped += len - kept;
        }

        private void endLine() {
            if (lines.size() >= MAX_LINES) {
                extraLines++;
            } else {
                byte[] bytes = current.toByteArray();
                int end = bytes.length;
                long dropped = currentDropped;
                if (dropped > 0) {
                    // The cut may have split a UTF-8 sequence: drop the incomplete tail.
                    int lead = end - 1;
                    while (lead > 0 && (bytes[lead] & 0xc0) == 0x80) {
                        lead--;
                    }
                    int b = bytes[lead] & 0xff;
                    int length = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
                    if (lead + length > end) {
                        end = lead;
                    }
                    dropped += bytes.length - end;
                } else if (end > 0 && bytes[end - 1] == '\r') {
                    end--;
                }
                String line = new String(bytes, 0, end, StandardCharsets.UTF_8);
                lines.add(dropped > 0 ? line + " [line truncated: " + dropped + " more bytes]" : line);
            }
            current.reset();
            currentDropped = 0;
            currentOpen = false;
        }

        /** Returns the captured lines and resets the capture. */
        synchronized List<String> take() {
            if (!dirty) {
                return List.of();
            }
            if (currentOpen) {
                endLine();
            }
            List<String> result = new ArrayList<>(lines);
            if (extraLines > 0) {
                result.add("[truncated: " + extraLines + " more lines]");
            }
            lines.clear();
            extraLines = 0;
            dirty = false;
            return result;
        }
    }

    private final Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    // Passing through to the original streams' bytes keeps the worker log in UTF-8 whatever the locale.
    private final Capture outCapture = new Capture(System.out);
    private final Capture errCapture = new Capture(System.err);
    private final PrintStream capturedOut = new PrintStream(outCapture, true, StandardCharsets.UTF_8);
    private final PrintStream capturedErr = new PrintStream(errCapture, true, StandardCharsets.UTF_8);
    private BiFunction<Object, Object, Object> function;
    private Type contextType = Object.class;
    private Type payloadType = Object.class;
    private Type resultType = Object.class;

    public static void main(String[] args) {
        String handler = System.getenv().getOrDefault("DISPATCH_HANDLER", "");
        DispatchWorker worker = new DispatchWorker();
        System.setOut(worker.capturedOut);
        System.setErr(worker.capturedErr);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new FileInputStream("/dev/fd/3"), 1 << 16));
             DataOutputStream out = new DataOutputStream(
                 new BufferedOutputStream(new FileOutputStream("/dev/fd/4"), 1 << 16))) {
            try {
                worker.load(handler);
            } catch (LoadError e) {
                JsonObject frame = new JsonObject();
                frame.addProperty("type", "error");
                frame.add("error", errorObject("FunctionError", e.getMessage(), e.getCause()));
                writeFrame(out, worker.gson.toJson(frame));
                System.exit(1);
            }
            worker.warmUp();
            JsonObject ready = new JsonObject();
            ready.addProperty("type", "ready");
            ready.addProperty("runtime", "java");
            ready.addProperty("version", System.getProperty("java.version"));
            writeFrame(out, worker.gson.toJson(ready));
            worker.serve(in, out);
        } catch (IOException e) {
            System.err.println("dispatch worker: " + e.getMessage()); // not capturing: goes to the worker log
            System.exit(2);
        }
        // Threads the handler started must not keep a worker alive that the server asked to stop.
        System.exit(0);
    }

    @SuppressWarnings("unchecked")
    private void load(String handler) throws LoadError {
        if (handler.isEmpty()) {
            throw new LoadError("no handler given: name the handler class, e.g. io.dispatchframework.examples.Hello",
                null);
        }
        Class<?> cls;
        try {
            cls = Class.forName(handler, true, DispatchWorker.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new LoadError("handler class '" + handler + "' not found on the classpath (the function's compiled"
                + " classes and lib/*.jar); check the package and class name", null);
        } catch (LinkageError e) {
            // ExceptionInInitializerError (a static initialiser threw) or a missing dependency class.
            Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
            throw new LoadError("cannot load handler class '" + handler + "': " + describe(cause), cause);
        }
        if (!BiFunction.class.isAssignableFrom(cls)) {
            throw new LoadError("handler class '" + handler + "' does not implement java.util.function.BiFunction;"
                + " a Dispatch handler is a class implementing BiFunction<Context, Payload, Result>", null);
        }
        if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
            throw new LoadError("handler class '" + handler + "' is abstract; it must be a concrete class", null);
        }
        try {
            var constructor = cls.getDeclaredConstructor();
            constructor.setAccessible(true);
            function = (BiFunction<Object, Object, Object>) constructor.newInstance();
        } catch (NoSuchMethodException e) {
            boolean inner = cls.isMemberClass() && !Modifier.isStatic(cls.getModifiers());
            throw new LoadError("handler class '" + handler + "' needs a constructor without parameters"
                + (inner ? "; a nested handler class must be declared static" : ""), null);
        } catch (InvocationTargetException e) {
            throw new LoadError("the constructor of handler class '" + handler + "' threw "
                + describe(e.getCause()), e.getCause());
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new LoadError("cannot instantiate handler class '" + handler + "': " + describe(e), e);
        }
        Type[] types = biFunctionArguments(cls, new HashMap<>());
        if (types != null) {
            contextType = types[0];
            payloadType = types[1];
            resultType = types[2];
        }
    }

    /**
     * Creating Gson's adapters and linking the JDK's string concatenation take tens of milliseconds the first time;
     * doing it before the handshake keeps that out of the first invocation. Never calls the handler.
     */
    private void warmUp() {
        try {
            for (Type type : new Type[] {contextType, payloadType, resultType}) {
                gson.getAdapter(TypeToken.get(type));
            }
            JsonObject request = JsonParser.parseString("{\"type\":\"invoke\",\"id\":0,\"context\":{},\"payload\":{}}")
                .getAsJsonObject();
            reply(request.get("id"), gson.toJson(request.get("payload")), null, System.nanoTime());
        } catch (RuntimeException e) {
            // A type Gson cannot handle fails again, and is reported, at invocation time.
        }
    }

    /**
     * The actual type arguments of BiFunction as seen from {@code type}, with type variables bound by subclasses
     * resolved; null when the class uses the raw type. Unresolvable variables become Object.
     */
    private static Type[] biFunctionArguments(Type type, Map<TypeVariable<?>, Type> bindings) {
        Class<?> raw;
        if (type instanceof ParameterizedType) {
            ParameterizedType p = (ParameterizedType) type;
            raw = (Class<?>) p.getRawType();
            TypeVariable<?>[] vars = raw.getTypeParameters();
            Type[] actual = p.getActualTypeArguments();
            Map<TypeVariable<?>, Type> inner = new HashMap<>();
            for (int i = 0; i < vars.length; i++) {
                inner.put(vars[i], resolve(actual[i], bindings));
            }
            if (raw == BiFunction.class) {
                return new Type[] {inner.get(vars[0]), inner.get(vars[1]), inner.get(vars[2])};
            }
            bindings = inner;
        } else if (type instanceof Class) {
            raw = (Class<?>) type;
            if (raw == BiFunction.class) {
                return null;
            }
            bindings = new HashMap<>();
        } else {
            return null;
        }
        List<Type> supertypes = new ArrayList<>(List.of(raw.getGenericInterfaces()));
        if (raw.getGenericSuperclass() != null) {
            supertypes.add(raw.getGenericSuperclass());
        }
        for (Type supertype : supertypes) {
            if (supertype instanceof Class && !BiFunction.class.isAssignableFrom((Class<?>) supertype)) {
                continue;
            }
            if (supertype instanceof ParameterizedType
                && !BiFunction.class.isAssignableFrom((Class<?>) ((ParameterizedType) supertype).getRawType())) {
                continue;
            }
            return biFunctionArguments(supertype, bindings);
        }
        return null;
    }

    private static Type resolve(Type type, Map<TypeVariable<?>, Type> bindings) {
        if (type instanceof TypeVariable) {
            return bindings.getOrDefault(type, Object.class);
        }
        return type; // nested variables (List<T>) are left to Gson, which treats them as Object
    }

    private void serve(DataInputStream in, DataOutputStream out) throws IOException {
        while (true) {
            int size;
            try {
                size = in.readInt();
            } catch (EOFException e) {
                return;
            }
            if (size < 0 || size > MAX_FRAME) {
                throw new IOException("request frame of " + Integer.toUnsignedString(size)
                    + " bytes exceeds the protocol limit");
            }
            byte[] body = new byte[size];
            try {
                in.readFully(body);
            } catch (EOFException e) {
                throw new IOException("request pipe closed in the middle of a frame", e);
            }
            byte[] reply;
            JsonElement id = JsonNull.INSTANCE;
            try {
                JsonObject request = JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject();
                if (request.has("id")) {
                    id = request.get("id");
                }
                if (!"invoke".equals(request.has("type") ? request.get("type").getAsString() : null)) {
                    continue; // other frame types are reserved for future use
                }
                reply = invoke(id, request);
            } catch (RuntimeException | StackOverflowError e) {
                // The shim itself failed; report it rather than leave the server waiting.
                outCapture.setActive(false);
                errCapture.setActive(false);
                outCapture.take();
                errCapture.take();
                reply = reply(id, "null", errorObject("SystemError", "worker failed: " + describe(e), e), 0);
            }
            writeFrame(out, reply);
        }
    }

    private byte[] invoke(JsonElement id, JsonObject request) {
        Object context;
        Object input;
        try {
            context = gson.fromJson(orNull(request.get("context")), contextType);
        } catch (RuntimeException e) {
            return reply(id, "null", errorObject("InputError", "context cannot be converted to "
                + contextType.getTypeName() + ": " + message(e), e), 0);
        }
        try {
            input = gson.fromJson(orNull(request.get("payload")), payloadType);
        } catch (RuntimeException e) {
            return reply(id, "null", errorObject("InputError", "payload cannot be converted to "
                + payloadType.getTypeName() + ": " + message(e), e), 0);
        }

        System.setOut(capturedOut); // undo replacements a previous invocation left behind
        System.setErr(capturedErr);
        outCapture.setActive(true);
        errCapture.setActive(true);
        Object value = null;
        Throwable thrown = null;
        long start = System.nanoTime();
        try {
            value = function.apply(context, input);
        } catch (Throwable t) { // an Error thrown by the handler (StackOverflowError etc.) must not end the worker
            thrown = t;
        }
        long durationNs = System.nanoTime() - start;
        capturedOut.flush();
        capturedErr.flush();
        outCapture.setActive(false);
        errCapture.setActive(false);

        if (thrown != null) {
            String type = thrown instanceof IllegalArgumentException ? "InputError" : "FunctionError";
            return reply(id, "null", errorObject(type, message(thrown), thrown), durationNs);
        }
        String payload;
        try {
            payload = gson.toJson(value); // a String becomes a JSON string; NaN and Infinity are refused
        } catch (RuntimeException | StackOverflowError e) {
            return reply(id, "null", errorObject("FunctionError",
                "return value is not JSON serializable: " + message(e), null), durationNs);
        }
        return reply(id, payload, null, durationNs);
    }

    /** The reply frame body; a reply over the frame limit becomes a FunctionError rather than a protocol error. */
    private byte[] reply(JsonElement id, String payloadJson, JsonObject error, long durationNs) {
        List<String> stdout = outCapture.take();
        List<String> stderr = errCapture.take();
        String idJson = gson.toJson(id);
        byte[] body = resultBytes(idJson, payloadJson, error, stdout, stderr, durationNs);
        if (body.length <= MAX_FRAME) {
            return body;
        }
        JsonObject tooLarge = errorObject("FunctionError", "the reply would be " + body.length
            + " bytes of JSON, more than the " + MAX_FRAME + " a reply may carry; return less data", null);
        body = resultBytes(idJson, "null", tooLarge, stdout, stderr, durationNs);
        if (body.length <= MAX_FRAME) {
            return body;
        }
        return resultBytes(idJson, "null", tooLarge, List.of(),
            List.of("[truncated: the logs did not fit into one reply]"), durationNs);
    }

    private byte[] resultBytes(String idJson, String payloadJson, JsonObject error, List<String> stdout,
                               List<String> stderr, long durationNs) {
        String logs = stdout.isEmpty() && stderr.isEmpty() ? "{\"stdout\":[],\"stderr\":[]}"
            : "{\"stdout\":" + gson.toJson(stdout) + ",\"stderr\":" + gson.toJson(stderr) + "}";
        return ("{\"type\":\"result\",\"id\":" + idJson + ",\"payload\":" + payloadJson
            + ",\"error\":" + (error == null ? "null" : gson.toJson(error)) + ",\"logs\":" + logs
            + ",\"durationNs\":" + durationNs + "}").getBytes(StandardCharsets.UTF_8);
    }

    private static JsonElement orNull(JsonElement e) {
        return e == null ? JsonNull.INSTANCE : e;
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isEmpty() ? t.getClass().getName() : m;
    }

    private static String describe(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isEmpty() ? t.getClass().getName() : t.getClass().getName() + ": " + m;
    }

    private static JsonObject errorObject(String type, String message, Throwable t) {
        JsonObject error = new JsonObject();
        error.addProperty("type", type);
        error.addProperty("message", message);
        JsonArray trace = new JsonArray();
        if (t != null) {
            StringWriter text = new StringWriter();
            t.printStackTrace(new PrintWriter(text));
            int skipped = 0;
            for (String line : text.toString().split("\\R")) {
                // Frames of this shim and of the reflection/class loading below it mean nothing to the user.
                if (line.startsWith("\tat dispatch.worker.") || line.startsWith("\tat java.base/jdk.internal.reflect.")
                    || line.startsWith("\tat java.base/java.lang.reflect.")
                    || line.startsWith("\tat java.base/java.lang.Class.forName")) {
                    continue;
                }
                if (trace.size() < MAX_TRACE_LINES) {
                    trace.add(line);
                } else {
                    skipped++;
                }
            }
            if (skipped > 0) {
                trace.add("\t... " + skipped + " more lines");
            }
        }
        error.add("stacktrace", trace);
        return error;
    }

    private static void writeFrame(DataOutputStream out, String json) throws IOException {
        writeFrame(out, json.getBytes(StandardCharsets.UTF_8));
    }

    private static void writeFrame(DataOutputStream out, byte[] body) throws IOException {
        out.writeInt(body.length);
        out.write(body);
        out.flush();
    }
}
