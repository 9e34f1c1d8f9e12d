// SPDX-License-Identifier: GPL-3.0-or-later
#include "apispanel.h"

#include "formdialog.h"
#include "functionsmodel.h"
#include "apismodel.h"
#include "jsontext.h"
#include "restclient.h"
#include "validation.h"
#include "workspace.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

namespace dispatch::views {

namespace {

QStringList strings(const nlohmann::json &j)
{
    QStringList out;
    if (j.is_array())
        for (const auto &v : j)
            if (v.is_string())
                out << QString::fromStdString(v.get<std::string>());
    return out;
}

nlohmann::json jsonList(const QStringList &list)
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto &s : list)
        if (!s.trimmed().isEmpty())
            out.push_back(s.trimmed().toStdString());
    return out;
}

QStringList splitList(const QString &text)
{
    QStringList out;
    for (const QString &s : text.split(QRegularExpression(QStringLiteral("[,\\s]+")), Qt::SkipEmptyParts))
        out << s;
    return out;
}

} // namespace

ApisView::ApisView(Workspace *workspace, QWidget *parent)
    : ResourceView(workspace, workspace->apis(), tr("API"), tr("APIs"), parent)
{
    m_nam = new QNetworkAccessManager(this);
    auto *urlRow = new QHBoxLayout;
    m_url = new QLabel(this);
    m_url->setObjectName(QStringLiteral("gatewayUrl"));
    m_url->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_url->setWordWrap(true);
    m_copy = new QPushButton(tr("Copy URL"), this);
    m_copy->setObjectName(QStringLiteral("copyUrlButton"));
    m_copy->setAccessibleName(tr("Copy the gateway URL to the clipboard"));
    urlRow->addWidget(new QLabel(tr("<b>Gateway URL:</b>"), this));
    urlRow->addWidget(m_url, 1);
    urlRow->addWidget(m_copy);
    detailExtras()->addLayout(urlRow);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        const QString url = gatewayUrl(currentObject());
        if (url.isEmpty())
            return;
        QGuiApplication::clipboard()->setText(url);
        showInfo(tr("Copied %1").arg(url));
    });

    auto *tryBox = new QGroupBox(tr("Try it"), this);
    tryBox->setObjectName(QStringLiteral("tryItBox"));
    auto *t = new QVBoxLayout(tryBox);
    auto *req = new QHBoxLayout;
    m_method = new QComboBox(tryBox);
    m_method->setObjectName(QStringLiteral("tryMethod"));
    m_method->setAccessibleName(tr("HTTP method"));
    m_method->addItems({QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"), QStringLiteral("PATCH"),
                        QStringLiteral("DELETE")});
    m_path = new QLineEdit(tryBox);
    m_path->setObjectName(QStringLiteral("tryPath"));
    m_path->setAccessibleName(tr("Request path"));
    m_send = new QPushButton(tr("&Send"), tryBox);
    m_send->setObjectName(QStringLiteral("trySend"));
    req->addWidget(m_method);
    req->addWidget(m_path, 1);
    req->addWidget(m_send);
    t->addLayout(req);
    m_body = new QPlainTextEdit(QStringLiteral("{\"name\": \"Jon\", \"place\": \"Winterfell\"}"), tryBox);
    m_body->setObjectName(QStringLiteral("tryBody"));
    m_body->setAccessibleName(tr("Request body"));
    m_body->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_body->setMaximumHeight(70);
    m_body->setTabChangesFocus(true);
    t->addWidget(m_body);
    m_responseStatus = new QLabel(tr("Send a request to see the response."), tryBox);
    m_responseStatus->setObjectName(QStringLiteral("tryStatus"));
    m_responseStatus->setTextInteractionFlags(Qt::TextSelectableByMouse);
    t->addWidget(m_responseStatus);
    m_responseHeaders = makeCodeView(tryBox, QStringLiteral("tryHeaders"));
    m_responseHeaders->setMaximumHeight(80);
    m_responseBody = makeCodeView(tryBox, QStringLiteral("tryResponseBody"));
    m_responseBody->setMaximumHeight(120);
    t->addWidget(m_responseHeaders);
    t->addWidget(m_responseBody);
    detailExtras()->addWidget(tryBox);
    connect(m_send, &QPushButton::clicked, this, &ApisView::sendTryIt);
    connect(m_path, &QLineEdit::returnPressed, this, &ApisView::sendTryIt);
    connect(workspace, &Workspace::gatewayBaseChanged, this, [this] { currentChanged(currentObject()); });
}

QString ApisView::emptyText() const
{
    return tr("No APIs yet.\nAn API publishes a function on the gateway at a path, e.g. POST /hello.\nCreate one with "
              "\u201cNew API\u2026\u201d (Ctrl+N).");
}

QString ApisView::gatewayUrl(const Json &api) const
{
    const QString base = workspace()->gatewayBase();
    if (!api.is_object())
        return {};
    const QStringList uris = strings(api.value("uris", Json()));
    if (base.isEmpty() || uris.isEmpty())
        return {};
    return base + uris.first();
}

QList<QPair<QString, QString>> ApisView::keyFields(const Json &o) const
{
    return {
        {tr("Function:"), jsonString(o, "function")},
        {tr("Methods:"), strings(o.value("methods", Json())).join(QStringLiteral(", "))},
        {tr("Paths:"), strings(o.value("uris", Json())).join(QStringLiteral(", "))},
        {tr("Protocols:"), strings(o.value("protocols", Json())).join(QStringLiteral(", "))},
        {tr("Enabled:"), jsonBool(o, "enabled", false) ? tr("yes") : tr("no")},
        {tr("CORS:"), jsonBool(o, "cors", false) ? tr("yes") : tr("no")},
    };
}

void ApisView::currentChanged(const Json &object)
{
    const QString url = object.is_object() ? gatewayUrl(object) : QString();
    m_url->setText(url.isEmpty() ? (object.is_object() ? tr("(gateway address unknown)") : QString()) : url);
    m_copy->setEnabled(!url.isEmpty());
    m_send->setEnabled(object.is_object());
    if (!object.is_object())
        return;
    const QStringList uris = strings(object.value("uris", Json()));
    m_path->setText(uris.value(0));
    const QStringList methods = strings(object.value("methods", Json()));
    if (!methods.isEmpty())
        m_method->setCurrentText(methods.first());
}

void ApisView::sendTryIt()
{
    const QString base = workspace()->gatewayBase();
    if (base.isEmpty()) {
        m_responseStatus->setText(tr("The gateway address of this context is unknown."));
        return;
    }
    QUrl url(base + m_path->text().trimmed());
    QNetworkRequest request(url);
    request.setTransferTimeout(60000);
    const QByteArray method = m_method->currentText().toLatin1();
    const QByteArray body = method == "GET" || method == "DELETE" ? QByteArray() : m_body->toPlainText().toUtf8();
    if (!body.isEmpty())
        request.setHeader(QNetworkRequest::ContentTypeHeader, QByteArrayLiteral("application/json"));
    m_responseStatus->setText(tr("Sending %1 %2\u2026").arg(QString::fromLatin1(method), url.toString()));
    m_responseHeaders->clear();
    m_responseBody->clear();
    m_send->setEnabled(false);
    auto timer = std::make_shared<QElapsedTimer>();
    timer->start();
    QNetworkReply *reply = m_nam->sendCustomRequest(request, method, body);
    connect(reply, &QNetworkReply::finished, this, [this, reply, timer] {
        reply->deleteLater();
        m_send->setEnabled(true);
        const qint64 ms = timer->elapsed();
        const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        if (status == 0) {
            m_responseStatus->setText(tr("No answer after %1 ms: %2").arg(ms).arg(reply->errorString()));
            return;
        }
        m_responseStatus->setText(
            tr("<b>%1 %2</b> \u00b7 %3 ms")
                .arg(status)
                .arg(reply->attribute(QNetworkRequest::HttpReasonPhraseAttribute).toString().toHtmlEscaped())
                .arg(ms));
        QString headers;
        for (const auto &[k, v] : reply->rawHeaderPairs())
            headers += QString::fromLatin1(k) + QStringLiteral(": ") + QString::fromLatin1(v) + QLatin1Char('\n');
        m_responseHeaders->setPlainText(headers);
        const QByteArray payload = reply->readAll();
        const QJsonDocument doc = QJsonDocument::fromJson(payload);
        m_responseBody->setPlainText(doc.isNull() ? QString::fromUtf8(payload) : QString::fromUtf8(doc.toJson(QJsonDocument::Indented)));
    });
}

void ApisView::openForm(const Json &existingIn)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? jsonString(existing, "name") : QString();
    auto *form = new FormDialog(editing ? tr("Edit API %1").arg(name) : tr("New API"), workspace(), this);
    form->setObjectName(QStringLiteral("apiForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName, tr("e.g. api-hello"))->setReadOnly(editing);
    form->addCombo(QStringLiteral("function"), tr("&Function:"), workspace()->functions()->names(),
                   editing ? jsonString(existing, "function") : QString(), true,
                   [this](const QString &v) {
                       if (v.isEmpty())
                           return tr("Choose the function this API calls.");
                       if (workspace()->functions()->rowOf(v) < 0)
                           return tr("There is no function %1 on this server.").arg(v);
                       return QString();
                   });
    // The server returns URIs with the /<org> prefix; an edit sends them back without it (reference §2.5).
    QStringList uris = strings(existing.value("uris", Json()));
    const QString prefix = QLatin1Char('/') + workspace()->endpoint().organization;
    for (auto &u : uris)
        if (u.startsWith(prefix + QLatin1Char('/')))
            u = u.mid(prefix.size());
    form->addLine(QStringLiteral("methods"), tr("&Methods:"),
                  editing ? strings(existing.value("methods", Json())).join(QStringLiteral(", ")) : QStringLiteral("POST"),
                  [](const QString &v) {
                      static const QStringList ok = {QStringLiteral("GET"), QStringLiteral("POST"), QStringLiteral("PUT"),
                                                     QStringLiteral("PATCH"), QStringLiteral("DELETE"),
                                                     QStringLiteral("HEAD"), QStringLiteral("OPTIONS")};
                      const QStringList m = splitList(v.toUpper());
                      if (m.isEmpty())
                          return tr("At least one method (GET, POST, \u2026).");
                      for (const auto &x : m)
                          if (!ok.contains(x))
                              return tr("Unknown method %1.").arg(x);
                      return QString();
                  },
                  tr("GET, POST, \u2026"));
    form->addLine(QStringLiteral("uris"), tr("&Paths:"), uris.join(QStringLiteral(", ")),
                  [](const QString &v) {
                      const QStringList p = splitList(v);
                      if (p.isEmpty())
                          return tr("At least one path, e.g. /hello.");
                      for (const auto &x : p)
                          if (QString e = checkUriPath(x); !e.isEmpty())
                              return e;
                      return QString();
                  },
                  tr("/hello"));
    form->addLine(QStringLiteral("hosts"), tr("&Hosts:"), strings(existing.value("hosts", Json())).join(QStringLiteral(", ")),
                  {}, tr("optional; empty = any host"));
    form->addCheck(QStringLiteral("https"), tr("Allow &HTTPS"),
                   !editing || strings(existing.value("protocols", Json())).contains(QStringLiteral("https")));
    form->addCheck(QStringLiteral("http"), tr("Allow H&TTP"),
                   !editing || strings(existing.value("protocols", Json())).contains(QStringLiteral("http")));
    form->addCheck(QStringLiteral("cors"), tr("&CORS headers"), editing && jsonBool(existing, "cors", false));
    form->addCheck(QStringLiteral("enabled"), tr("&Enabled"), !editing || jsonBool(existing, "enabled", false));
    form->setSubmit([this, editing, name, existing](FormDialog *f) {
        Json body = editing ? existing : Json::object();
        for (const char *k : {"status", "reason", "kind", "id"})
            body.erase(k);
        body["name"] = f->value(QStringLiteral("name")).trimmed().toStdString();
        body["function"] = f->value(QStringLiteral("function")).trimmed().toStdString();
        body["methods"] = jsonList(splitList(f->value(QStringLiteral("methods")).toUpper()));
        body["uris"] = jsonList(splitList(f->value(QStringLiteral("uris"))));
        body["hosts"] = jsonList(splitList(f->value(QStringLiteral("hosts"))));
        QStringList protocols;
        if (f->checked(QStringLiteral("http")))
            protocols << QStringLiteral("http");
        if (f->checked(QStringLiteral("https")))
            protocols << QStringLiteral("https");
        body["protocols"] = jsonList(protocols);
        body["cors"] = f->checked(QStringLiteral("cors"));
        body["enabled"] = f->checked(QStringLiteral("enabled"));
        QPointer<FormDialog> guard(f);
        auto done = [this, guard](const models::ApiResult &r) {
            if (!guard)
                return;
            if (!r.ok()) {
                guard->fail(r.errorMessage);
                return;
            }
            applyAndSelect(r.json);
            guard->succeed();
        };
        if (editing)
            workspace()->client()->put(QStringLiteral("/v1/api/%1").arg(name), body, f, done);
        else
            workspace()->client()->post(QStringLiteral("/v1/api"), body, f, done);
    });
    m_form = form;
    form->open();
}

ApisPanel::ApisPanel(Workspace *workspace, QWidget *parent)
    : ResourcePanel(tr("APIs"), tr("HTTP endpoints on the gateway that call a function."), workspace, parent)
{
    m_view = new ApisView(workspace, this);
    addView(m_view, tr("APIs"));
}

} // namespace dispatch::views
