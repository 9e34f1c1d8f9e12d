// Tests for the HTTP layer (backend/http): a real server on port 0 served by two io threads, and a Beast
// client whose every operation has a timeout, so a failure ends the test instead of hanging it.
// No raw string literals here: moc of Qt 6.4 silently skips the test class after some of them.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <QTest>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include "http/server.h"

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace http = dispatch::http;
using boost::system::error_code;
using tcp = net::ip::tcp;

namespace {

constexpr auto kWait = std::chrono::seconds(10);

// What handlers saw and kept. Responders, writers and worker threads are released by clear(), which the
// runner calls while the io threads still run, so nothing posts to a dead io_context.
struct Probe
{
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::shared_ptr<http::RequestContext>> requests;
    std::vector<http::ResponderPtr> responders;
    std::vector<std::shared_ptr<http::StreamWriter>> writers;
    std::vector<std::thread> threads;

    void record(std::shared_ptr<http::RequestContext> context)
    {
        std::lock_guard lock(mutex);
        requests.push_back(std::move(context));
        changed.notify_all();
    }
    void keep(http::ResponderPtr responder)
    {
        std::lock_guard lock(mutex);
        responders.push_back(std::move(responder));
        changed.notify_all();
    }
    void keep(std::shared_ptr<http::StreamWriter> writer)
    {
        std::lock_guard lock(mutex);
        writers.push_back(std::move(writer));
        changed.notify_all();
    }
    void spawn(std::function<void()> work)
    {
        std::lock_guard lock(mutex);
        threads.emplace_back(std::move(work));
    }
    template <typename Predicate> bool waitFor(Predicate predicate)
    {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, kWait, predicate);
    }
    std::size_t requestCount()
    {
        std::lock_guard lock(mutex);
        return requests.size();
    }
    std::shared_ptr<http::RequestContext> request(std::size_t i)
    {
        std::lock_guard lock(mutex);
        return requests.at(i);
    }
    void clear()
    {
        std::vector<http::ResponderPtr> oldResponders;
        std::vector<std::shared_ptr<http::StreamWriter>> oldWriters;
        std::vector<std::thread> oldThreads;
        {
            std::lock_guard lock(mutex);
            oldResponders.swap(responders);
            oldWriters.swap(writers);
            oldThreads.swap(threads);
        }
        for (auto &thread : oldThreads)
            thread.join();
    }
};

using TestHandler = std::function<void(Probe &, std::shared_ptr<http::RequestContext>, http::ResponderPtr)>;

class Runner
{
public:
    Runner(http::ServerOptions options, TestHandler handler)
    {
        m_server = std::make_unique<http::Server>(
            m_io, std::move(options),
            [probe = &m_probe, handler = std::move(handler)](std::shared_ptr<http::RequestContext> context,
                                                             http::ResponderPtr responder) {
                probe->record(context);
                handler(*probe, std::move(context), std::move(responder));
            });
        auto started = m_server->start();
        if (started.ok())
            m_port = started.value();
        else
            m_error = started.error().message;
        for (int i = 0; i < 2; ++i)
            m_threads.emplace_back([this] { m_io.run(); });
    }
    ~Runner()
    {
        m_server.reset();
        m_probe.clear();
        m_work.reset();
        m_io.stop();
        for (auto &thread : m_threads)
            thread.join();
    }
    Runner(const Runner &) = delete;
    Runner &operator=(const Runner &) = delete;

    bool ok() const { return m_port != 0; }
    const std::string &error() const { return m_error; }
    uint16_t port() const { return m_port; }
    http::Server &server() { return *m_server; }
    Probe &probe() { return m_probe; }

private:
    net::io_context m_io{2};
    net::executor_work_guard<net::io_context::executor_type> m_work{m_io.get_executor()};
    Probe m_probe;
    std::unique_ptr<http::Server> m_server;
    std::vector<std::thread> m_threads;
    uint16_t m_port = 0;
    std::string m_error;
};

http::ServerOptions testOptions()
{
    http::ServerOptions options;
    options.name = "test";
    options.host = "127.0.0.1";
    options.port = 0;
    return options;
}

void answerOk(Probe &, std::shared_ptr<http::RequestContext> context, http::ResponderPtr responder)
{
    const std::string target(context->request.target());
    responder->send(http::makeJson(200, "{\"target\":\"" + target + "\"}"));
}

// A blocking client in which every operation gives up after kWait.
class Client
{
public:
    explicit Client(std::shared_ptr<net::ssl::context> tls = {}) : m_tls(std::move(tls))
    {
        if (m_tls)
            m_tlsStream.emplace(m_io, *m_tls);
        else
            m_tcpStream.emplace(m_io);
    }

    error_code connect(uint16_t port, const std::string &host = "127.0.0.1")
    {
        const tcp::endpoint endpoint(net::ip::make_address(host), port);
        error_code ec = run([&](auto &, auto done) { tcpStream().async_connect(endpoint, done); });
        if (ec || !m_tlsStream)
            return ec;
        SSL_set_tlsext_host_name(m_tlsStream->native_handle(), "localhost");
        return run(
            [&](auto &, auto done) { m_tlsStream->async_handshake(net::ssl::stream_base::client, done); });
    }

    error_code send(const http::Request &request)
    {
        return run([&](auto &stream, auto done) { bhttp::async_write(stream, request, done); });
    }

    error_code sendRaw(const std::string &bytes)
    {
        return run([&](auto &stream, auto done) { net::async_write(stream, net::buffer(bytes), done); });
    }

    // One whole response; nullopt (and `error` set) when none arrived.
    std::optional<http::Response> receive(error_code *error = nullptr, bool headRequest = false)
    {
        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(boost::none);
        parser.skip(headRequest);
        const error_code ec =
            run([&](auto &stream, auto done) { bhttp::async_read(stream, m_buffer, parser, done); });
        if (error)
            *error = ec;
        if (ec)
            return std::nullopt;
        return parser.release();
    }

    error_code receiveHeader(bhttp::response_parser<bhttp::string_body> &parser)
    {
        return run(
            [&](auto &stream, auto done) { bhttp::async_read_header(stream, m_buffer, parser, done); });
    }

    error_code receiveSome(bhttp::response_parser<bhttp::string_body> &parser)
    {
        return run([&](auto &stream, auto done) { bhttp::async_read_some(stream, m_buffer, parser, done); });
    }

    // Reads whatever comes until the server ends the connection; returns how it ended.
    error_code receiveUntilClosed()
    {
        for (;;) {
            const error_code ec = run(
                [&](auto &stream, auto done) { stream.async_read_some(m_buffer.prepare(64 * 1024), done); });
            m_buffer.clear();
            if (ec)
                return ec;
        }
    }

    void close()
    {
        error_code ignored;
        tcpStream().socket().close(ignored);
    }

    static bool isClosed(const error_code &ec)
    {
        return ec == net::error::eof || ec == net::error::connection_reset ||
               ec == net::ssl::error::stream_truncated;
    }

private:
    beast::tcp_stream &tcpStream() { return m_tlsStream ? m_tlsStream->next_layer() : *m_tcpStream; }

    template <typename Operation> error_code run(Operation operation)
    {
        error_code result = net::error::timed_out;
        tcpStream().expires_after(kWait);
        auto done = [&result](const error_code &ec, std::size_t = 0) { result = ec; };
        if (m_tlsStream)
            operation(*m_tlsStream, done);
        else
            operation(*m_tcpStream, done);
        m_io.restart();
        m_io.run();
        return result;
    }

    net::io_context m_io;
    std::shared_ptr<net::ssl::context> m_tls;
    std::optional<beast::tcp_stream> m_tcpStream;
    std::optional<beast::ssl_stream<beast::tcp_stream>> m_tlsStream;
    beast::flat_buffer m_buffer;
};

http::Request get(const std::string &target, unsigned version = 11)
{
    http::Request request{bhttp::verb::get, target, version};
    request.set(bhttp::field::host, "127.0.0.1");
    return request;
}

// A self-signed certificate for 127.0.0.1 and localhost, made with the OpenSSL 3 APIs.
struct SelfSigned
{
    std::string certificatePem;
    std::string keyPem;
};

std::string bioText(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::optional<SelfSigned> makeSelfSigned()
{
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
    if (!key || !cert)
        return std::nullopt;
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("localhost"),
                               -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX extensionContext;
    X509V3_set_ctx_nodb(&extensionContext);
    X509V3_set_ctx(&extensionContext, cert.get(), cert.get(), nullptr, nullptr, 0);
    for (const auto &[nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                     std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
        X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &extensionContext, nid, value);
        if (!extension)
            return std::nullopt;
        X509_add_ext(cert.get(), extension, -1);
        X509_EXTENSION_free(extension);
    }
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
        return std::nullopt;

    std::unique_ptr<BIO, decltype(&BIO_free)> certBio(BIO_new(BIO_s_mem()), &BIO_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> keyBio(BIO_new(BIO_s_mem()), &BIO_free);
    if (!PEM_write_bio_X509(certBio.get(), cert.get()) ||
        !PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
        return std::nullopt;
    return SelfSigned{bioText(certBio.get()), bioText(keyBio.get())};
}

} // namespace

class TestHttpServer : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { spdlog::set_level(spdlog::level::warn); }

    void getIsAnswered()
    {
        Runner runner(testOptions(), answerOk);
        QVERIFY2(runner.ok(), runner.error().c_str());
        QCOMPARE(runner.server().port(), runner.port());

        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/hello")), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->result_int(), 200u);
        QCOMPARE(response->body(), std::string("{\"target\":\"/hello\"}"));
        QCOMPARE(std::string((*response)[bhttp::field::content_type]), std::string("application/json"));
        QCOMPARE(std::string((*response)[bhttp::field::server]), std::string("dispatch-server"));
        QCOMPARE(std::string((*response)[bhttp::field::content_length]),
                 std::to_string(response->body().size()));
        QVERIFY(response->keep_alive());

        const auto context = runner.probe().request(0);
        QCOMPARE(context->remoteAddress, std::string("127.0.0.1"));
        QCOMPARE(context->localPort, runner.port());
        QVERIFY(!context->tls);
    }

    void keepAliveServesRequestsOnOneConnection()
    {
        Runner runner(testOptions(), answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        for (const char *target : {"/one", "/two", "/three"}) {
            QCOMPARE(client.send(get(target)), error_code{});
            const auto response = client.receive();
            QVERIFY(response);
            QCOMPARE(response->result_int(), 200u);
            QVERIFY(response->body().find(target) != std::string::npos);
        }
        QCOMPARE(runner.server().openConnections(), std::size_t(1));
    }

    void pipelinedRequestsAreAnsweredInOrder()
    {
        // The first answer comes from another thread, after the second request already arrived.
        Runner runner(testOptions(), [](Probe &probe, auto context, http::ResponderPtr responder) {
            if (context->request.target() == "/first")
                probe.spawn([responder] { responder->send(http::makeJson(200, "\"first\"")); });
            else
                answerOk(probe, std::move(context), std::move(responder));
        });
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(
            client.sendRaw("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"),
            error_code{});
        const auto first = client.receive();
        const auto second = client.receive();
        QVERIFY(first && second);
        QCOMPARE(first->body(), std::string("\"first\""));
        QCOMPARE(second->body(), std::string("{\"target\":\"/second\"}"));
    }

    void http10IsAnswered()
    {
        Runner runner(testOptions(), answerOk);
        QVERIFY(runner.ok());
        {
            // No keep-alive asked: answered in 1.0, then closed.
            Client client;
            QCOMPARE(client.connect(runner.port()), error_code{});
            QCOMPARE(client.send(get("/old", 10)), error_code{});
            const auto response = client.receive();
            QVERIFY(response);
            QCOMPARE(response->version(), 10u);
            QVERIFY(!response->keep_alive());
            QVERIFY(Client::isClosed(client.receiveUntilClosed()));
        }
        {
            Client client;
            QCOMPARE(client.connect(runner.port()), error_code{});
            auto request = get("/old", 10);
            request.keep_alive(true);
            for (int i = 0; i < 2; ++i) {
                QCOMPARE(client.send(request), error_code{});
                const auto response = client.receive();
                QVERIFY(response);
                QCOMPARE(response->version(), 10u);
                QVERIFY(response->keep_alive());
            }
        }
    }

    void headGetsLengthWithoutBody()
    {
        Runner runner(testOptions(), answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        auto request = get("/h");
        request.method(bhttp::verb::head);
        QCOMPARE(client.send(request), error_code{});
        const auto response = client.receive(nullptr, true);
        QVERIFY(response);
        QCOMPARE(std::string((*response)[bhttp::field::content_length]),
                 std::to_string(std::string("{\"target\":\"/h\"}").size()));
        // The connection is still in step: the next answer parses.
        QCOMPARE(client.send(get("/after")), error_code{});
        const auto after = client.receive();
        QVERIFY(after);
        QCOMPARE(after->body(), std::string("{\"target\":\"/after\"}"));
    }

    void oversizeBodyGets413_data()
    {
        QTest::addColumn<bool>("chunked");
        QTest::newRow("content-length") << false;
        QTest::newRow("chunked") << true;
    }
    void oversizeBodyGets413()
    {
        QFETCH(bool, chunked);
        auto options = testOptions();
        options.bodyLimit = 1024;
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        http::Request request{bhttp::verb::post, "/upload", 11};
        request.set(bhttp::field::host, "x");
        request.body() = std::string(4096, 'a');
        if (chunked)
            request.chunked(true);
        else
            request.prepare_payload();
        QCOMPARE(client.send(request), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->result_int(), 413u);
        QCOMPARE(response->body(),
                 std::string(
                     "{\"code\":413,\"message\":\"request body is larger than the limit of 1024 bytes\"}"));
        QVERIFY(!response->keep_alive());
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
        QCOMPARE(runner.probe().requestCount(), std::size_t(0));
    }

    void bodyWithinLimitArrives()
    {
        auto options = testOptions();
        options.bodyLimit = 1024;
        Runner runner(options, [](Probe &, auto context, http::ResponderPtr responder) {
            responder->send(http::makeJson(200, std::to_string(context->request.body().size())));
        });
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        http::Request request{bhttp::verb::post, "/upload", 11};
        request.set(bhttp::field::host, "x");
        request.body() = std::string(1024, 'a');
        request.prepare_payload();
        QCOMPARE(client.send(request), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->body(), std::string("1024"));
    }

    void expectContinueIsHonoured()
    {
        Runner runner(testOptions(), [](Probe &, auto context, http::ResponderPtr responder) {
            responder->send(http::makeJson(200, "\"" + context->request.body() + "\""));
        });
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.sendRaw(
                     "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
                 error_code{});
        const auto interim = client.receive();
        QVERIFY(interim);
        QCOMPARE(interim->result_int(), 100u);
        QCOMPARE(client.sendRaw("hello"), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->body(), std::string("\"hello\""));
    }

    void garbageGets400()
    {
        Runner runner(testOptions(), answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.sendRaw("THIS IS NOT HTTP\r\n\r\n"), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->result_int(), 400u);
        QVERIFY2(response->body().rfind("{\"code\":400,\"message\":\"malformed HTTP request: ", 0) == 0,
                 response->body().c_str());
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
    }

    void oversizeHeaderGets431()
    {
        auto options = testOptions();
        options.headerLimit = 1024;
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        auto request = get("/");
        request.set("X-Padding", std::string(4096, 'p'));
        QCOMPARE(client.send(request), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->result_int(), 431u);
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
    }

    void sendFromAnotherThread()
    {
        Runner runner(testOptions(), [](Probe &probe, auto, http::ResponderPtr responder) {
            probe.spawn([responder] { responder->send(http::makeJson(202, "\"later\"")); });
        });
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(client.send(get("/async")), error_code{});
            const auto response = client.receive();
            QVERIFY(response);
            QCOMPARE(response->result_int(), 202u);
            QCOMPARE(response->body(), std::string("\"later\""));
        }
    }

    void unansweredRequestGets500_data()
    {
        QTest::addColumn<bool>("throws");
        QTest::newRow("responder dropped") << false;
        QTest::newRow("handler threw") << true;
    }
    void unansweredRequestGets500()
    {
        QFETCH(bool, throws);
        Runner runner(testOptions(), [throws](Probe &, auto, http::ResponderPtr) {
            if (throws)
                throw std::runtime_error("handler bug");
        });
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/bug")), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(response->result_int(), 500u);
        QCOMPARE(response->body(), std::string("{\"code\":500,\"message\":\"internal error: no response\"}"));
        // The connection survives a handler bug.
        QCOMPARE(client.send(get("/bug")), error_code{});
        QVERIFY(client.receive());
    }

    void streamDeliversChunks()
    {
        Runner runner(testOptions(), [](Probe &probe, auto, http::ResponderPtr responder) {
            http::Response head{bhttp::status::ok, 11};
            head.set(bhttp::field::content_type, "text/event-stream");
            probe.keep(responder->startStream(std::move(head), 64 * 1024));
        });
        QVERIFY(runner.ok());
        Probe &probe = runner.probe();
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/events")), error_code{});
        QVERIFY(probe.waitFor([&] { return !probe.writers.empty(); }));
        const auto writer = probe.writers.front();

        bhttp::response_parser<bhttp::string_body> parser;
        parser.body_limit(boost::none);
        QCOMPARE(client.receiveHeader(parser), error_code{});
        QCOMPARE(parser.get().result_int(), 200u);
        QVERIFY(parser.chunked());
        QCOMPARE(std::string(parser.get()[bhttp::field::content_type]), std::string("text/event-stream"));

        QVERIFY(writer->isOpen());
        QVERIFY(writer->write("data: one\n\n"));
        while (parser.get().body().size() < std::string("data: one\n\n").size())
            QCOMPARE(client.receiveSome(parser), error_code{});
        QCOMPARE(parser.get().body(), std::string("data: one\n\n"));

        QVERIFY(writer->write("data: two\n\n"));
        writer->close();
        QVERIFY(!writer->isOpen());
        QVERIFY(!writer->write("data: three\n\n"));
        while (!parser.is_done())
            QCOMPARE(client.receiveSome(parser), error_code{});
        QCOMPARE(parser.get().body(), std::string("data: one\n\ndata: two\n\n"));
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
        client.close(); // the server half-closed and waits (a little) for the client to finish
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
    }

    void slowStreamClientIsDropped()
    {
        constexpr std::size_t limit = 64 * 1024;
        Runner runner(testOptions(), [](Probe &probe, auto, http::ResponderPtr responder) {
            probe.keep(responder->startStream(http::Response{bhttp::status::ok, 11}, limit));
        });
        QVERIFY(runner.ok());
        Probe &probe = runner.probe();
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/events")), error_code{});
        QVERIFY(probe.waitFor([&] { return !probe.writers.empty(); }));
        const auto writer = probe.writers.front();

        // The client reads nothing: once the socket buffers are full, the queue passes the limit.
        const std::string chunk(16 * 1024, 'x');
        bool dropped = false;
        for (int i = 0; i < 100000 && !dropped; ++i)
            dropped = !writer->write(chunk);
        QVERIFY(dropped);
        QVERIFY(!writer->isOpen());
        QVERIFY(!writer->write("more"));
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
    }

    void streamNoticesClientLeaving()
    {
        Runner runner(testOptions(), [](Probe &probe, auto, http::ResponderPtr responder) {
            probe.keep(responder->startStream(http::Response{bhttp::status::ok, 11}, 1024));
        });
        QVERIFY(runner.ok());
        Probe &probe = runner.probe();
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/events")), error_code{});
        QVERIFY(probe.waitFor([&] { return !probe.writers.empty(); }));
        const auto writer = probe.writers.front();
        bhttp::response_parser<bhttp::string_body> parser;
        QCOMPARE(client.receiveHeader(parser), error_code{});
        client.close();
        QTRY_VERIFY_WITH_TIMEOUT(!writer->isOpen(), 10000);
        QVERIFY(!writer->write("data: gone\n\n"));
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
    }

    void tlsRequest()
    {
        const auto credentials = makeSelfSigned();
        QVERIFY2(credentials, "cannot make a self-signed certificate");

        auto serverTls = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
        serverTls->use_certificate_chain(net::buffer(credentials->certificatePem));
        serverTls->use_private_key(net::buffer(credentials->keyPem), net::ssl::context::pem);
        auto options = testOptions();
        options.tls = serverTls;
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());

        auto clientTls = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
        clientTls->add_certificate_authority(net::buffer(credentials->certificatePem));
        clientTls->set_verify_mode(net::ssl::verify_peer);
        clientTls->set_verify_callback(net::ssl::host_name_verification("127.0.0.1"));
        Client client(clientTls);
        QCOMPARE(client.connect(runner.port()), error_code{});
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(client.send(get("/secure")), error_code{});
            const auto response = client.receive();
            QVERIFY(response);
            QCOMPARE(response->result_int(), 200u);
            QCOMPARE(response->body(), std::string("{\"target\":\"/secure\"}"));
        }
        QVERIFY(runner.probe().request(0)->tls);

        // A plain-text client gets no answer, only a closed connection.
        Client plain;
        QCOMPARE(plain.connect(runner.port()), error_code{});
        QCOMPARE(plain.send(get("/plain")), error_code{});
        error_code ec;
        QVERIFY(!plain.receive(&ec));
        QVERIFY(ec != net::error::timed_out && ec != beast::error::timeout);
    }

    void tlsHandshakeTimesOut()
    {
        const auto credentials = makeSelfSigned();
        QVERIFY(credentials);
        auto options = testOptions();
        options.tls = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
        options.tls->use_certificate_chain(net::buffer(credentials->certificatePem));
        options.tls->use_private_key(net::buffer(credentials->keyPem), net::ssl::context::pem);
        options.tlsHandshakeTimeout = std::chrono::seconds(1);
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        Client silent; // connects and never says hello
        QCOMPARE(silent.connect(runner.port()), error_code{});
        QVERIFY(Client::isClosed(silent.receiveUntilClosed()));
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
    }

    void ipv6Host()
    {
        auto options = testOptions();
        options.host = "::1";
        Runner runner(options, answerOk);
        if (!runner.ok())
            QSKIP("IPv6 loopback is not available here");
        Client client;
        QCOMPARE(client.connect(runner.port(), "::1"), error_code{});
        QCOMPARE(client.send(get("/six")), error_code{});
        const auto response = client.receive();
        QVERIFY(response);
        QCOMPARE(runner.probe().request(0)->remoteAddress, std::string("::1"));
    }

    void badHostFailsToStart()
    {
        auto options = testOptions();
        options.host = "192.0.2.1"; // a documentation address: never one of ours, so bind() fails
        Runner runner(options, answerOk);
        QVERIFY(!runner.ok());
        QVERIFY(!runner.error().empty());
    }

    void connectionLimit()
    {
        auto options = testOptions();
        options.maxConnections = 1;
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        auto first = std::make_unique<Client>();
        QCOMPARE(first->connect(runner.port()), error_code{});
        QCOMPARE(first->send(get("/1")), error_code{});
        QVERIFY(first->receive());

        Client refused;
        QCOMPARE(refused.connect(runner.port()), error_code{}); // accepted, then closed at once
        QVERIFY(Client::isClosed(refused.receiveUntilClosed()));

        first.reset();
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
        Client next;
        QCOMPARE(next.connect(runner.port()), error_code{});
        QCOMPARE(next.send(get("/2")), error_code{});
        QVERIFY(next.receive());
    }

    void idleConnectionTimesOut()
    {
        auto options = testOptions();
        options.idleTimeout = std::chrono::seconds(1);
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/")), error_code{});
        QVERIFY(client.receive());
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
    }

    void trickledRequestTimesOut()
    {
        auto options = testOptions();
        options.requestTimeout = std::chrono::seconds(1);
        Runner runner(options, answerOk);
        QVERIFY(runner.ok());
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.sendRaw("GET / HTTP/1.1\r\nHost: x\r\n"), error_code{});
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
    }

    void stopLetsInFlightRequestsFinish()
    {
        Runner runner(testOptions(), [](Probe &probe, auto context, http::ResponderPtr responder) {
            if (context->request.target() == "/slow")
                probe.keep(std::move(responder));
            else
                answerOk(probe, std::move(context), std::move(responder));
        });
        QVERIFY(runner.ok());
        Probe &probe = runner.probe();

        Client idle;
        QCOMPARE(idle.connect(runner.port()), error_code{});
        QCOMPARE(idle.send(get("/fast")), error_code{});
        QVERIFY(idle.receive());

        Client busy;
        QCOMPARE(busy.connect(runner.port()), error_code{});
        QCOMPARE(busy.send(get("/slow")), error_code{});
        QVERIFY(probe.waitFor([&] { return !probe.responders.empty(); }));

        runner.server().stop();
        QVERIFY(Client::isClosed(idle.receiveUntilClosed()));
        Client late;
        QVERIFY(late.connect(runner.port()) == net::error::connection_refused);

        http::ResponderPtr responder;
        {
            std::lock_guard lock(probe.mutex);
            responder = probe.responders.front();
        }
        responder->send(http::makeJson(200, "\"finished\""));
        const auto response = busy.receive();
        QVERIFY(response);
        QCOMPARE(response->body(), std::string("\"finished\""));
        QVERIFY(!response->keep_alive());
        QVERIFY(Client::isClosed(busy.receiveUntilClosed()));
        busy.close();
        QTRY_COMPARE_WITH_TIMEOUT(runner.server().openConnections(), std::size_t(0), 10000);
        runner.server().stop(); // idempotent
    }

    void stopEndsStreams()
    {
        Runner runner(testOptions(), [](Probe &probe, auto, http::ResponderPtr responder) {
            probe.keep(responder->startStream(http::Response{bhttp::status::ok, 11}, 1024));
        });
        QVERIFY(runner.ok());
        Probe &probe = runner.probe();
        Client client;
        QCOMPARE(client.connect(runner.port()), error_code{});
        QCOMPARE(client.send(get("/events")), error_code{});
        QVERIFY(probe.waitFor([&] { return !probe.writers.empty(); }));
        bhttp::response_parser<bhttp::string_body> parser;
        QCOMPARE(client.receiveHeader(parser), error_code{});

        std::thread stopper([&] { runner.server().stop(); });
        stopper.join();
        while (!parser.is_done())
            QCOMPARE(client.receiveSome(parser), error_code{});
        QVERIFY(!probe.writers.front()->isOpen());
        QVERIFY(Client::isClosed(client.receiveUntilClosed()));
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
