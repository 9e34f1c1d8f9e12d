// SPDX-License-Identifier: GPL-3.0-or-later
#include "execdialog.h"

#include "contextbanner.h"
#include "functionsmodel.h"
#include "jsontext.h"
#include "messagebar.h"
#include "restclient.h"
#include "runsmodel.h"
#include "validation.h"
#include "workspace.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QVBoxLayout>

namespace dispatch::views {

using Json = nlohmann::json;

namespace {

QStringList stringList(const Json &j)
{
    QStringList out;
    if (j.is_array())
        for (const auto &v : j)
            if (v.is_string())
                out << QString::fromStdString(v.get<std::string>());
    return out;
}

} // namespace

QString runErrorText(const Json &run)
{
    if (!run.is_object())
        return {};
    const auto it = run.find("error");
    if (it == run.end() || !it->is_object()) {
        const QStringList reason = stringList(run.value("reason", Json()));
        return reason.join(QLatin1Char('\n'));
    }
    QString text = QStringLiteral("%1: %2").arg(jsonString(*it, "type"), jsonString(*it, "message"));
    const QStringList stack = stringList(it->value("stacktrace", Json()));
    if (!stack.isEmpty())
        text += QStringLiteral("\n\n") + stack.join(QLatin1Char('\n'));
    return text;
}

QString runLogsText(const Json &run)
{
    if (!run.is_object() || !run.contains("logs") || !run["logs"].is_object())
        return {};
    const QStringList out = stringList(run["logs"].value("stdout", Json()));
    const QStringList err = stringList(run["logs"].value("stderr", Json()));
    QString text;
    for (const auto &l : out)
        text += QStringLiteral("stdout | ") + l + QLatin1Char('\n');
    for (const auto &l : err)
        text += QStringLiteral("stderr | ") + l + QLatin1Char('\n');
    return text;
}

ExecDialog::ExecDialog(Workspace *workspace, const QString &function, const QString &input, QWidget *parent)
    : QDialog(parent), m_workspace(workspace)
{
    setObjectName(QStringLiteral("execDialog"));
    setWindowTitle(tr("Run function \u2014 %1").arg(workspace->contextName()));
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto *banner = new ContextBanner(this);
    banner->setContext(workspace->contextName(), workspace->contextColor());
    outer->addWidget(banner);
    auto *layout = new QVBoxLayout;
    layout->setContentsMargins(12, 8, 12, 12);
    outer->addLayout(layout, 1);

    auto *form = new QFormLayout;
    m_function = new QComboBox(this);
    m_function->setObjectName(QStringLiteral("execFunction"));
    m_function->setEditable(true);
    m_function->addItems(workspace->functions()->names());
    m_function->setCurrentText(function);
    m_function->setAccessibleName(tr("Function"));
    form->addRow(tr("&Function:"), m_function);
    m_input = new QPlainTextEdit(input.isEmpty() ? QStringLiteral("{\n  \"name\": \"Jon\",\n  \"place\": \"Winterfell\"\n}")
                                                 : input,
                                 this);
    m_input->setObjectName(QStringLiteral("execInput"));
    m_input->setAccessibleName(tr("Input JSON"));
    m_input->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_input->setTabChangesFocus(true);
    m_input->setMinimumHeight(100);
    form->addRow(tr("&Input (JSON):"), m_input);
    m_inputError = new QLabel(this);
    m_inputError->setObjectName(QStringLiteral("execInputError"));
    QPalette ep = m_inputError->palette();
    ep.setColor(QPalette::WindowText, ep.color(QPalette::BrightText));
    m_inputError->setPalette(ep);
    m_inputError->hide();
    form->addRow(QString(), m_inputError);
    m_blocking = new QCheckBox(tr("&Wait for the result (blocking)"), this);
    m_blocking->setObjectName(QStringLiteral("execBlocking"));
    m_blocking->setChecked(true);
    form->addRow(QString(), m_blocking);
    m_secrets = new QLineEdit(this);
    m_secrets->setObjectName(QStringLiteral("execSecrets"));
    m_secrets->setPlaceholderText(tr("comma-separated secret names, added to the function's own"));
    m_secrets->setAccessibleName(tr("Extra secrets"));
    form->addRow(tr("Extra &secrets:"), m_secrets);
    layout->addLayout(form);

    auto *runRow = new QHBoxLayout;
    m_runButton = new QPushButton(tr("&Run"), this);
    m_runButton->setObjectName(QStringLiteral("execRunButton"));
    m_runButton->setDefault(true);
    m_runButton->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_runButton->setToolTip(tr("Run (Ctrl+Enter)"));
    runRow->addWidget(m_runButton);
    m_status = new StatusBadge(this);
    m_status->setObjectName(QStringLiteral("execStatus"));
    runRow->addWidget(m_status);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("execSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    runRow->addWidget(m_summary, 1);
    layout->addLayout(runRow);

    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("execResultTabs"));
    m_output = makeCodeView(m_tabs, QStringLiteral("execOutput"));
    m_error = makeCodeView(m_tabs, QStringLiteral("execError"));
    m_logs = makeCodeView(m_tabs, QStringLiteral("execLogs"));
    m_output->setPlaceholderText(tr("The function's output appears here after a run."));
    m_tabs->addTab(m_output, tr("Output"));
    m_tabs->addTab(m_error, tr("Error"));
    m_tabs->addTab(m_logs, tr("Logs"));
    layout->addWidget(m_tabs, 1);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &ExecDialog::reject);
    layout->addWidget(buttons);

    connect(m_runButton, &QPushButton::clicked, this, &ExecDialog::runNow);
    connect(m_input, &QPlainTextEdit::textChanged, this, [this] { m_inputError->hide(); });
    m_poll.setInterval(500);
    connect(&m_poll, &QTimer::timeout, this, &ExecDialog::poll);
    resize(640, 620);
}

QString ExecDialog::runStatus() const
{
    return m_run.is_object() ? jsonString(m_run, "status") : QString();
}

void ExecDialog::runNow()
{
    QString error;
    const auto input = parseJsonText(m_input->toPlainText(), &error);
    if (!input) {
        m_inputError->setText(error);
        m_inputError->show();
        m_input->setFocus();
        return;
    }
    const QString fn = m_function->currentText().trimmed();
    if (fn.isEmpty()) {
        m_inputError->setText(tr("Choose a function."));
        m_inputError->show();
        return;
    }
    Json extra = Json::object();
    QStringList secrets;
    for (const QString &s : m_secrets->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        secrets << s.trimmed();
    Json secretsJson = Json::array();
    for (const auto &s : secrets)
        secretsJson.push_back(s.toStdString());
    extra["secrets"] = secretsJson;
    m_runButton->setEnabled(false);
    m_status->setStatus(QStringLiteral("WAITING"));
    m_summary->setText(tr("Running %1\u2026").arg(fn));
    m_output->clear();
    m_error->clear();
    m_logs->clear();
    m_poll.stop();
    m_workspace->client()->runFunction(
        fn, *input, m_blocking->isChecked(), this,
        [this](const models::ApiResult &r) {
            m_runButton->setEnabled(true);
            if (!r.ok()) {
                m_status->setStatus(QStringLiteral("ERROR"), r.errorMessage);
                m_summary->setText(r.errorMessage);
                m_error->setPlainText(r.errorMessage);
                m_tabs->setCurrentWidget(m_error);
                return;
            }
            showRun(r.json);
            const QString status = runStatus();
            if (status != QLatin1String("READY") && status != QLatin1String("ERROR")) {
                m_polls = 0;
                m_poll.start();
            }
        },
        extra);
}

void ExecDialog::poll()
{
    if (m_runId.isEmpty() || ++m_polls > 1200) { // 10 minutes at most
        m_poll.stop();
        return;
    }
    const QString fn = jsonString(m_run, "functionName");
    m_workspace->client()->get(
        QStringLiteral("/v1/runs/%1?functionName=%2").arg(m_runId, fn), this, [this](const models::ApiResult &r) {
            if (!r.ok())
                return;
            showRun(r.json);
            const QString status = runStatus();
            if (status == QLatin1String("READY") || status == QLatin1String("ERROR"))
                m_poll.stop();
        });
}

void ExecDialog::showRun(const Json &run)
{
    if (!run.is_object())
        return;
    m_run = run;
    m_runId = jsonString(run, "name");
    const QString status = runStatus();
    const QString errorText = runErrorText(run);
    m_status->setStatus(status, errorText);
    qint64 duration = jsonInt(run, "durationNs", -1);
    const qint64 executed = models::RunsModel::toNanoseconds(jsonInt(run, "executedTime", 0));
    const qint64 finished = models::RunsModel::toNanoseconds(jsonInt(run, "finishedTime", 0));
    if (duration < 0 && finished > 0 && executed > 0)
        duration = finished - executed;
    m_summary->setText(tr("Run %1 \u00b7 %2").arg(m_runId.left(8), models::RunsModel::formatDuration(duration)));
    m_summary->setToolTip(m_runId);
    m_output->setPlainText(run.contains("output") ? prettyJson(run["output"]) : QString());
    m_error->setPlainText(errorText);
    m_logs->setPlainText(runLogsText(run));
    if (status == QLatin1String("ERROR"))
        m_tabs->setCurrentWidget(m_error);
    else
        m_tabs->setCurrentWidget(m_output);
    // Only a finished run goes into the table: an earlier state (the 202 answer) could arrive after the feed's
    // newer one and roll the row back.
    if (status == QLatin1String("READY") || status == QLatin1String("ERROR")) {
        if (m_workspace->runs())
            m_workspace->runs()->applyRun(run);
        emit runFinished(run);
    }
}

} // namespace dispatch::views
