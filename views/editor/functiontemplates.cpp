// SPDX-License-Identifier: GPL-3.0-or-later
#include "functiontemplates.h"

#include <QRegularExpression>

namespace dispatch::views {

namespace {

const QString kHelloInput = QStringLiteral("{\n  \"name\": \"Jon\",\n  \"place\": \"Winterfell\"\n}\n");

QList<FunctionTemplate> pythonTemplates()
{
    return {
        {QStringLiteral("hello"), QObject::tr("Hello world"), QObject::tr("Greets the name and place in the input."),
         {{QStringLiteral("hello.py"),
           QStringLiteral("def handle(ctx, payload):\n"
                          "    name = \"Noone\"\n"
                          "    place = \"Nowhere\"\n"
                          "    if payload:\n"
                          "        name = payload.get(\"name\", name)\n"
                          "        place = payload.get(\"place\", place)\n"
                          "    return {\"myField\": \"Hello, %s from %s\" % (name, place)}\n")}},
         kHelloInput},
        {QStringLiteral("http-echo"), QObject::tr("HTTP echo"),
         QObject::tr("Answers with the HTTP request it was called with (ctx[\"httpContext\"], set by the API gateway)."),
         {{QStringLiteral("echo.py"),
           QStringLiteral("def handle(ctx, payload):\n"
                          "    # Set when the function is called through an API of the gateway.\n"
                          "    http = ctx.get(\"httpContext\") or {}\n"
                          "    return {\n"
                          "        \"method\": http.get(\"method\"),\n"
                          "        \"uri\": http.get(\"uri\"),\n"
                          "        \"args\": http.get(\"args\"),\n"
                          "        \"payload\": payload,\n"
                          "    }\n")}},
         QStringLiteral("{\n  \"hello\": \"world\"\n}\n")},
        {QStringLiteral("event"), QObject::tr("Event handler"),
         QObject::tr("Handles a CloudEvent from a subscription: the payload is the event's data, ctx[\"event\"] the rest."),
         {{QStringLiteral("on_event.py"),
           QStringLiteral("def handle(ctx, payload):\n"
                          "    # Set when a subscription delivers an event: the CloudEvent without its data.\n"
                          "    event = ctx.get(\"event\") or {}\n"
                          "    print(\"event %s of type %s from %s\" % (\n"
                          "        event.get(\"eventID\"), event.get(\"eventType\"), event.get(\"source\")))\n"
                          "    return {\"handled\": event.get(\"eventType\"), \"data\": payload}\n")}},
         QStringLiteral("{\n  \"temperature\": 21\n}\n")},
        {QStringLiteral("secrets"), QObject::tr("Using secrets"),
         QObject::tr("Reads a value from the secrets attached to the function (ctx[\"secrets\"])."),
         {{QStringLiteral("with_secret.py"),
           QStringLiteral("def handle(ctx, payload):\n"
                          "    # Every secret attached to the function or the run, merged into one dictionary.\n"
                          "    secrets = ctx.get(\"secrets\") or {}\n"
                          "    key = (payload or {}).get(\"key\", \"password\")\n"
                          "    return {\"key\": key, \"isSet\": key in secrets}\n")}},
         QStringLiteral("{\n  \"key\": \"password\"\n}\n")},
    };
}

QList<FunctionTemplate> nodeTemplates()
{
    return {
        {QStringLiteral("hello"), QObject::tr("Hello world"), QObject::tr("Greets the name and place in the input."),
         {{QStringLiteral("hello.js"),
           QStringLiteral("module.exports = function (context, payload) {\n"
                          "  const name = (payload && payload.name) || 'Noone';\n"
                          "  const place = (payload && payload.place) || 'Nowhere';\n"
                          "  return { myField: `Hello, ${name} from ${place}` };\n"
                          "};\n")}},
         kHelloInput},
        {QStringLiteral("http-echo"), QObject::tr("HTTP echo"),
         QObject::tr("Answers with the HTTP request it was called with (context.httpContext, set by the API gateway)."),
         {{QStringLiteral("echo.js"),
           QStringLiteral("module.exports = function (context, payload) {\n"
                          "  // Set when the function is called through an API of the gateway.\n"
                          "  const http = context.httpContext || {};\n"
                          "  return { method: http.method, uri: http.uri, args: http.args, payload };\n"
                          "};\n")}},
         QStringLiteral("{\n  \"hello\": \"world\"\n}\n")},
        {QStringLiteral("event"), QObject::tr("Event handler"),
         QObject::tr("Handles a CloudEvent from a subscription: the payload is the event's data, context.event the rest."),
         {{QStringLiteral("on-event.js"),
           QStringLiteral("module.exports = function (context, payload) {\n"
                          "  // Set when a subscription delivers an event: the CloudEvent without its data.\n"
                          "  const event = context.event || {};\n"
                          "  console.log(`event ${event.eventID} of type ${event.eventType} from ${event.source}`);\n"
                          "  return { handled: event.eventType, data: payload };\n"
                          "};\n")}},
         QStringLiteral("{\n  \"temperature\": 21\n}\n")},
        {QStringLiteral("secrets"), QObject::tr("Using secrets"),
         QObject::tr("Reads a value from the secrets attached to the function (context.secrets)."),
         {{QStringLiteral("with-secret.js"),
           QStringLiteral("module.exports = function (context, payload) {\n"
                          "  const secrets = context.secrets || {};\n"
                          "  const key = (payload && payload.key) || 'password';\n"
                          "  return { key, isSet: key in secrets };\n"
                          "};\n")}},
         QStringLiteral("{\n  \"key\": \"password\"\n}\n")},
    };
}

QString javaClass(const QString &name, const QString &body)
{
    return QStringLiteral("import java.util.HashMap;\n"
                          "import java.util.Map;\n"
                          "import java.util.function.BiFunction;\n\n"
                          "public class %1 implements BiFunction<Map<String, Object>, Map<String, Object>, Map<String, Object>> {\n"
                          "    public Map<String, Object> apply(Map<String, Object> context, Map<String, Object> payload) {\n"
                          "%2"
                          "    }\n"
                          "}\n")
        .arg(name, body);
}

QList<FunctionTemplate> javaTemplates()
{
    return {
        {QStringLiteral("hello"), QObject::tr("Hello world"), QObject::tr("Greets the name and place in the input."),
         {{QStringLiteral("Hello.java"),
           javaClass(QStringLiteral("Hello"),
                     QStringLiteral("        Object name = payload == null ? null : payload.get(\"name\");\n"
                                    "        Object place = payload == null ? null : payload.get(\"place\");\n"
                                    "        Map<String, Object> result = new HashMap<>();\n"
                                    "        result.put(\"myField\", \"Hello, \" + (name == null ? \"Noone\" : name) + \" from \"\n"
                                    "                + (place == null ? \"Nowhere\" : place));\n"
                                    "        return result;\n"))}},
         kHelloInput},
        {QStringLiteral("http-echo"), QObject::tr("HTTP echo"),
         QObject::tr("Answers with the HTTP request it was called with (context \"httpContext\", set by the API gateway)."),
         {{QStringLiteral("Echo.java"),
           javaClass(QStringLiteral("Echo"), QStringLiteral("        Map<String, Object> result = new HashMap<>();\n"
                                                            "        result.put(\"httpContext\", context.get(\"httpContext\"));\n"
                                                            "        result.put(\"payload\", payload);\n"
                                                            "        return result;\n"))}},
         QStringLiteral("{\n  \"hello\": \"world\"\n}\n")},
        {QStringLiteral("event"), QObject::tr("Event handler"),
         QObject::tr("Handles a CloudEvent from a subscription: the payload is the event's data, context \"event\" the rest."),
         {{QStringLiteral("OnEvent.java"),
           javaClass(QStringLiteral("OnEvent"), QStringLiteral("        Map<String, Object> result = new HashMap<>();\n"
                                                               "        result.put(\"event\", context.get(\"event\"));\n"
                                                               "        result.put(\"data\", payload);\n"
                                                               "        return result;\n"))}},
         QStringLiteral("{\n  \"temperature\": 21\n}\n")},
        {QStringLiteral("secrets"), QObject::tr("Using secrets"),
         QObject::tr("Reads a value from the secrets attached to the function (context \"secrets\")."),
         {{QStringLiteral("WithSecret.java"),
           javaClass(QStringLiteral("WithSecret"),
                     QStringLiteral("        Object secrets = context.get(\"secrets\");\n"
                                    "        Map<String, Object> result = new HashMap<>();\n"
                                    "        result.put(\"isSet\", secrets instanceof Map && ((Map<?, ?>) secrets).containsKey(\"password\"));\n"
                                    "        return result;\n"))}},
         QStringLiteral("{}\n")},
    };
}

QList<FunctionTemplate> powershellTemplates()
{
    return {
        {QStringLiteral("hello"), QObject::tr("Hello world"), QObject::tr("Greets the name and place in the input."),
         {{QStringLiteral("hello.ps1"),
           QStringLiteral("function handle($context, $payload) {\n"
                          "    $name = if ($payload.name) { $payload.name } else { \"Noone\" }\n"
                          "    $place = if ($payload.place) { $payload.place } else { \"Nowhere\" }\n"
                          "    return @{ myField = \"Hello, $name from $place\" }\n"
                          "}\n")}},
         kHelloInput},
        {QStringLiteral("http-echo"), QObject::tr("HTTP echo"), QObject::tr("Answers with $context.httpContext."),
         {{QStringLiteral("echo.ps1"), QStringLiteral("function handle($context, $payload) {\n"
                                                      "    return @{ httpContext = $context.httpContext; payload = $payload }\n"
                                                      "}\n")}},
         QStringLiteral("{\n  \"hello\": \"world\"\n}\n")},
        {QStringLiteral("event"), QObject::tr("Event handler"), QObject::tr("Handles a CloudEvent ($context.event)."),
         {{QStringLiteral("on-event.ps1"), QStringLiteral("function handle($context, $payload) {\n"
                                                          "    return @{ handled = $context.event.eventType; data = $payload }\n"
                                                          "}\n")}},
         QStringLiteral("{\n  \"temperature\": 21\n}\n")},
        {QStringLiteral("secrets"), QObject::tr("Using secrets"), QObject::tr("Reads $context.secrets."),
         {{QStringLiteral("with-secret.ps1"), QStringLiteral("function handle($context, $payload) {\n"
                                                             "    return @{ isSet = $null -ne $context.secrets.password }\n"
                                                             "}\n")}},
         QStringLiteral("{}\n")},
    };
}

QStringList withSuffix(const QMap<QString, QString> &files, const QString &suffix)
{
    QStringList out;
    for (auto it = files.cbegin(); it != files.cend(); ++it)
        if (it.key().endsWith(suffix))
            out << it.key();
    return out;
}

} // namespace

QString runtimeForLanguage(const QString &language)
{
    const QString l = language.toLower();
    if (l.startsWith(QLatin1String("python")))
        return QStringLiteral("python3");
    if (l.startsWith(QLatin1String("node")) || l == QLatin1String("javascript"))
        return QStringLiteral("nodejs");
    if (l.startsWith(QLatin1String("java")))
        return QStringLiteral("java");
    if (l.startsWith(QLatin1String("powershell")))
        return QStringLiteral("powershell");
    return {};
}

QList<FunctionTemplate> templatesFor(const QString &runtime)
{
    if (runtime == QLatin1String("python3"))
        return pythonTemplates();
    if (runtime == QLatin1String("nodejs"))
        return nodeTemplates();
    if (runtime == QLatin1String("java"))
        return javaTemplates();
    if (runtime == QLatin1String("powershell"))
        return powershellTemplates();
    return {};
}

QString defaultHandlerFor(const QString &runtime, const QMap<QString, QString> &files)
{
    if (runtime == QLatin1String("python3")) {
        const QStringList py = withSuffix(files, QStringLiteral(".py"));
        if (py.size() != 1)
            return {};
        QString module = py.front().chopped(3);
        module.replace(QLatin1Char('/'), QLatin1Char('.'));
        return module + QStringLiteral(".handle");
    }
    if (runtime == QLatin1String("nodejs")) {
        const QStringList js = withSuffix(files, QStringLiteral(".js"));
        return js.size() == 1 ? js.front() : QString();
    }
    if (runtime == QLatin1String("powershell")) {
        const QStringList ps = withSuffix(files, QStringLiteral(".ps1"));
        return ps.size() == 1 ? ps.front() + QStringLiteral("::handle") : QString();
    }
    if (runtime == QLatin1String("java")) {
        const QStringList java = withSuffix(files, QStringLiteral(".java"));
        if (java.size() != 1)
            return {};
        static const QRegularExpression packageLine(QStringLiteral(R"re(^\s*package\s+([\w.]+)\s*;)re"),
                                                    QRegularExpression::MultilineOption);
        const auto m = packageLine.match(files.value(java.front()));
        QString cls = java.front().section(QLatin1Char('/'), -1).chopped(5);
        return m.hasMatch() ? m.captured(1) + QLatin1Char('.') + cls : cls;
    }
    return {};
}

HandlerTarget handlerTarget(const QString &runtime, const QString &handler, const QStringList &files)
{
    HandlerTarget t;
    const QString h = handler.trimmed();
    if (h.isEmpty())
        return t;
    auto pick = [&files](const QString &path) { return files.contains(path) ? path : QString(); };
    if (runtime == QLatin1String("python3")) {
        const int dot = h.lastIndexOf(QLatin1Char('.'));
        if (dot <= 0)
            return t;
        QString module = h.left(dot);
        t.symbol = h.mid(dot + 1);
        module.replace(QLatin1Char('.'), QLatin1Char('/'));
        t.file = pick(module + QStringLiteral(".py"));
        if (t.file.isEmpty())
            t.file = pick(module + QStringLiteral("/__init__.py"));
    } else if (runtime == QLatin1String("nodejs")) {
        QString file = h.startsWith(QLatin1String("./")) ? h.mid(2) : h;
        t.file = pick(file);
        if (t.file.isEmpty())
            t.file = pick(file + QStringLiteral(".js"));
    } else if (runtime == QLatin1String("powershell")) {
        const QString file = h.section(QStringLiteral("::"), 0, 0);
        t.symbol = h.contains(QStringLiteral("::")) ? h.section(QStringLiteral("::"), 1) : QStringLiteral("handle");
        t.file = pick(file);
    } else if (runtime == QLatin1String("java")) {
        const QString cls = h.section(QLatin1Char('$'), 0, 0);
        t.symbol = h.section(QLatin1Char('.'), -1);
        QString path = cls;
        path.replace(QLatin1Char('.'), QLatin1Char('/'));
        const QString simple = cls.section(QLatin1Char('.'), -1) + QStringLiteral(".java");
        t.file = pick(path + QStringLiteral(".java"));
        for (const QString &f : files)
            if (t.file.isEmpty() && (f == simple || f.endsWith(QLatin1Char('/') + simple)))
                t.file = f;
    }
    return t;
}

} // namespace dispatch::views
