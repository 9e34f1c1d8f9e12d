// SPDX-License-Identifier: GPL-3.0-or-later
#include "eventspanel.h"

#include "driversmodel.h"
#include "drivertypesmodel.h"
#include "formdialog.h"
#include "functionsmodel.h"
#include "messagebar.h"
#include "restclient.h"
#include "secretsmodel.h"
#include "subscriptionsmodel.h"
#include "validation.h"
#include "workspace.h"

#include "jsontext.h"

#include <QAction>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QToolBar>
#include <QUuid>
#include <QVBoxLayout>

namespace dispatch::views {

using Json = nlohmann::json;

namespace {

QString str(const Json &o, const char *key)
{
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

QStringList strings(const Json &j)
{
    QStringList out;
    if (j.is_array())
        for (const auto &v : j)
            if (v.is_string())
                out << QString::fromStdString(v.get<std::string>());
    return out;
}

Json jsonList(const QString &commaSeparated)
{
    Json out = Json::array();
    for (const QString &s : commaSeparated.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (!s.trimmed().isEmpty())
            out.push_back(s.trimmed().toStdString());
    return out;
}

QList<QPair<QString, QString>> configPairs(const Json &config)
{
    QList<QPair<QString, QString>> out;
    if (config.is_array())
        for (const auto &c : config)
            if (c.is_object())
                out.append({str(c, "key"), str(c, "value")});
    return out;
}

models::ResourceTableModel *modelFor(EventResourceView::Kind kind, Workspace *ws)
{
    switch (kind) {
    case EventResourceView::Kind::DriverType:
        return ws->driverTypes();
    case EventResourceView::Kind::Driver:
        return ws->drivers();
    case EventResourceView::Kind::Subscription:
        break;
    }
    return ws->subscriptions();
}

QString singularFor(EventResourceView::Kind kind)
{
    switch (kind) {
    case EventResourceView::Kind::DriverType:
        return EventResourceView::tr("driver type");
    case EventResourceView::Kind::Driver:
        return EventResourceView::tr("driver");
    case EventResourceView::Kind::Subscription:
        break;
    }
    return EventResourceView::tr("subscription");
}

QString pluralFor(EventResourceView::Kind kind)
{
    switch (kind) {
    case EventResourceView::Kind::DriverType:
        return EventResourceView::tr("driver types");
    case EventResourceView::Kind::Driver:
        return EventResourceView::tr("drivers");
    case EventResourceView::Kind::Subscription:
        break;
    }
    return EventResourceView::tr("subscriptions");
}

QString checkSecrets(Workspace *ws, const QString &v)
{
    QStringList missing;
    for (const QString &s : v.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (ws->secrets()->rowOf(s.trimmed()) < 0)
            missing << s.trimmed();
    return missing.isEmpty() ? QString() : EventResourceView::tr("No such secret: %1").arg(missing.join(QStringLiteral(", ")));
}

} // namespace

EventResourceView::EventResourceView(Kind kind, Workspace *workspace, QWidget *parent)
    : ResourceView(workspace, modelFor(kind, workspace), singularFor(kind), pluralFor(kind), parent), m_kind(kind)
{
}

QString EventResourceView::emptyText() const
{
    switch (m_kind) {
    case Kind::DriverType:
        return tr("No driver types yet.\nA driver type names the program that produces events, e.g. cron "
                  "(dispatchframework/dispatch-events-cron:0.0.1).");
    case Kind::Driver:
        return tr("No drivers yet.\nA driver runs a driver type with its configuration, e.g. cron every 10 seconds.");
    case Kind::Subscription:
        break;
    }
    return tr("No subscriptions yet.\nA subscription runs a function for every event of a type, e.g. cron.trigger.");
}

QList<QPair<QString, QString>> EventResourceView::keyFields(const Json &o) const
{
    switch (m_kind) {
    case Kind::DriverType: {
        const QStringList users = workspace()->usersOfDriverType(str(o, "name"));
        return {{tr("Image:"), str(o, "image")},
                {tr("Expose:"), jsonBool(o, "expose", false) ? tr("yes") : tr("no")},
                {tr("Used by:"), users.isEmpty() ? tr("no drivers") : users.join(QStringLiteral(", "))}};
    }
    case Kind::Driver: {
        QStringList config;
        for (const auto &[k, v] : configPairs(o.value("config", Json())))
            config << QStringLiteral("%1=%2").arg(k, v);
        return {{tr("Type:"), str(o, "type")},
                {tr("Config:"), config.join(QStringLiteral(", "))},
                {tr("Secrets:"), strings(o.value("secrets", Json())).join(QStringLiteral(", "))},
                {tr("URL:"), str(o, "url")}};
    }
    case Kind::Subscription:
        break;
    }
    return {{tr("Event type:"), str(o, "eventType")},
            {tr("Function:"), str(o, "function")},
            {tr("Secrets:"), strings(o.value("secrets", Json())).join(QStringLiteral(", "))}};
}

QStringList EventResourceView::dependantsOf(const QString &name) const
{
    return m_kind == Kind::DriverType ? workspace()->usersOfDriverType(name) : QStringList();
}

void EventResourceView::openForm(const Json &existingIn)
{
    // Reading a null document throws in nlohmann::json: a new item starts from an empty object.
    const Json existing = existingIn.is_object() ? existingIn : Json::object();
    const bool editing = existingIn.is_object();
    const QString name = editing ? str(existing, "name") : QString();
    const QString title = editing ? tr("Edit %1 %2").arg(singular(), name) : tr("New %1").arg(singular());
    auto *form = new FormDialog(title, workspace(), this);
    form->setObjectName(QStringLiteral("eventForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    QString path;
    switch (m_kind) {
    case Kind::DriverType:
        path = QStringLiteral("/v1/event/drivertypes");
        form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkDriverTypeName, tr("e.g. cron"))->setReadOnly(editing);
        form->addLine(QStringLiteral("image"), tr("&Image:"), str(existing, "image"),
                      [](const QString &v) { return v.trimmed().isEmpty() ? tr("An image is required.") : QString(); },
                      tr("dispatchframework/dispatch-events-cron:0.0.1"));
        form->addCheck(QStringLiteral("expose"), tr("&Expose a port (drivers that receive webhooks)"),
                       jsonBool(existing, "expose", false));
        break;
    case Kind::Driver:
        path = QStringLiteral("/v1/event/drivers");
        form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkDriverName, tr("lower case, e.g. every-10-seconds"))
            ->setReadOnly(editing);
        form->addCombo(QStringLiteral("type"), tr("&Type:"), workspace()->driverTypes()->names(), str(existing, "type"), true,
                       [this](const QString &v) {
                           if (v.isEmpty())
                               return tr("Choose a driver type.");
                           if (v.size() > 32)
                               return tr("Driver types are at most 32 characters long.");
                           if (workspace()->driverTypes()->rowOf(v) < 0)
                               return tr("There is no driver type %1 on this server.").arg(v);
                           return QString();
                       });
        form->addKeyValues(QStringLiteral("config"), tr("&Config:"), configPairs(existing.value("config", Json())));
        form->addLine(QStringLiteral("secrets"), tr("&Secrets:"), strings(existing.value("secrets", Json())).join(QStringLiteral(", ")),
                      [this](const QString &v) { return checkSecrets(workspace(), v); }, tr("comma-separated secret names"));
        break;
    case Kind::Subscription:
        path = QStringLiteral("/v1/event/subscriptions");
        form->addLine(QStringLiteral("name"), tr("&Name:"), name, checkName, tr("e.g. hello-cron"))->setReadOnly(editing);
        form->addLine(QStringLiteral("eventType"), tr("&Event type:"), str(existing, "eventType"), checkEventType,
                      tr("e.g. cron.trigger"));
        form->addCombo(QStringLiteral("function"), tr("&Function:"), workspace()->functions()->names(), str(existing, "function"),
                       true, [this](const QString &v) {
                           if (v.isEmpty())
                               return tr("Choose the function to run.");
                           if (workspace()->functions()->rowOf(v) < 0)
                               return tr("There is no function %1 on this server.").arg(v);
                           return QString();
                       });
        form->addLine(QStringLiteral("secrets"), tr("&Secrets:"), strings(existing.value("secrets", Json())).join(QStringLiteral(", ")),
                      [this](const QString &v) { return checkSecrets(workspace(), v); }, tr("comma-separated secret names"));
        break;
    }
    const Kind kind = m_kind;
    form->setSubmit([this, kind, editing, name, existing, path](FormDialog *f) {
        Json body = editing ? existing : Json::object();
        for (const char *k : {"status", "reason", "kind", "id", "created-time", "modified-time", "createdTime",
                              "modifiedTime", "url"})
            body.erase(k);
        body["name"] = f->value(QStringLiteral("name")).trimmed().toStdString();
        switch (kind) {
        case Kind::DriverType:
            body["image"] = f->value(QStringLiteral("image")).trimmed().toStdString();
            body["expose"] = f->checked(QStringLiteral("expose"));
            break;
        case Kind::Driver: {
            body["type"] = f->value(QStringLiteral("type")).trimmed().toStdString();
            Json config = Json::array();
            for (const auto &[k, v] : f->pairs(QStringLiteral("config")))
                config.push_back({{"key", k.toStdString()}, {"value", v.toStdString()}});
            body["config"] = config;
            body["secrets"] = jsonList(f->value(QStringLiteral("secrets")));
            body.erase("expose");
            break;
        }
        case Kind::Subscription:
            body["eventType"] = f->value(QStringLiteral("eventType")).trimmed().toStdString();
            body["function"] = f->value(QStringLiteral("function")).trimmed().toStdString();
            body["secrets"] = jsonList(f->value(QStringLiteral("secrets")));
            break;
        }
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
            workspace()->client()->put(path + QLatin1Char('/') + name, body, f, done);
        else
            workspace()->client()->post(path, body, f, done);
    });
    m_form = form;
    form->open();
}

EventsPanel::EventsPanel(Workspace *workspace, QWidget *parent)
    : ResourcePanel(tr("Events"), tr("Drivers produce events; subscriptions run a function for each event of a type."),
                    workspace, parent)
{
    auto *row = new QHBoxLayout;
    auto *emitButton = new QPushButton(tr("E&mit event\u2026"), this);
    emitButton->setObjectName(QStringLiteral("emitEventButton"));
    emitButton->setToolTip(tr("Send a CloudEvent to this server: every subscription of its type runs"));
    row->addWidget(emitButton);
    row->addStretch(1);
    headerLayout()->addLayout(row);
    connect(emitButton, &QPushButton::clicked, this, &EventsPanel::openEmitDialog);

    m_types = new EventResourceView(EventResourceView::Kind::DriverType, workspace, this);
    m_drivers = new EventResourceView(EventResourceView::Kind::Driver, workspace, this);
    m_subscriptions = new EventResourceView(EventResourceView::Kind::Subscription, workspace, this);
    addView(m_subscriptions, tr("Subscriptions"));
    addView(m_drivers, tr("Drivers"));
    addView(m_types, tr("Driver types"));
}

void EventsPanel::openEmitDialog()
{
    auto *form = new FormDialog(tr("Emit event"), workspace(), this);
    form->setObjectName(QStringLiteral("emitForm"));
    form->setAttribute(Qt::WA_DeleteOnClose);
    form->addLine(QStringLiteral("eventType"), tr("&Event type:"), {}, checkEventType, tr("e.g. test.event"));
    form->addLine(QStringLiteral("source"), tr("&Source:"), QStringLiteral("dispatch-console"),
                  [](const QString &v) { return v.trimmed().isEmpty() ? tr("A source is required.") : QString(); });
    form->addText(QStringLiteral("data"), tr("&Data (JSON):"), QStringLiteral("{\n  \"name\": \"Jon\",\n  \"place\": \"Winterfell\"\n}"),
                  [](const QString &v) {
                      QString error;
                      return parseJsonText(v, &error) ? QString() : error;
                  });
    form->setSubmit([this](FormDialog *f) {
        QString error;
        const auto eventData = parseJsonText(f->value(QStringLiteral("data")), &error);
        const QString type = f->value(QStringLiteral("eventType")).trimmed();
        Json body = {{"eventType", type.toStdString()},
                     {"cloudEventsVersion", "0.1"},
                     {"source", f->value(QStringLiteral("source")).trimmed().toStdString()},
                     {"eventID", QUuid::createUuid().toString(QUuid::WithoutBraces).toStdString()},
                     {"eventTime", QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toStdString()},
                     {"contentType", "application/json"},
                     {"data", eventData.value_or(Json())}};
        QPointer<FormDialog> guard(f);
        workspace()->client()->post(QStringLiteral("/v1/event"), body, f, [this, guard, type](const models::ApiResult &r) {
            if (!guard)
                return;
            if (!r.ok()) {
                guard->fail(r.errorMessage);
                return;
            }
            if (auto *v = currentView())
                v->messageBar()->showMessage(MessageBar::Kind::Success, tr("Emitted a %1 event.").arg(type));
            guard->succeed();
        });
    });
    m_emit = form;
    form->open();
}

} // namespace dispatch::views
