// SPDX-License-Identifier: GPL-3.0-or-later
#include "testpane.h"

#include "codeeditor.h"
#include "execdialog.h"
#include "jsontext.h"
#include "messagebar.h"
#include "restclient.h"
#include "runsmodel.h"
#include "validation.h"
#include "workspace.h"

#include <QComboBox>
#include <QUrl>
#include <QDateTime>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QUrlQuery>
#include <QVBoxLayout>

#include <algorithm>

namespace dispatch::views {

using Json = nlohmann::json;

TraceLocation traceLocation(const QString &traceLine)
{
    static const QRegularExpression python(QStringLiteral(R"re(File "([^"]+)", line (\d+))re"));
    static const QRegularExpression other(
        QStringLiteral(R"re(([^\s()]+\.(?:js|mjs|cjs|java|py|ps1)):(\d+)(?::\d+)?)re"));
    for (const auto *re : {&python, &other}) {
        const auto m = re->match(traceLine);
        if (m.hasMatch())
            return {m.captured(1), m.captured(2).toInt()};
    }
    return {};
}

TestPane::TestPane(Workspace *workspace, const QString &function, QWidget *parent)
    : QWidget(parent), m_workspace(workspace), m_function(function)
{
    setObjectName(QStringLiteral("testPane"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);

    auto *savedRow = new QHBoxLayout;
    auto *savedLabel = new QLabel(tr("&Test input:"), this);
    m_saved = new QComboBox(this);
    m_saved->setObjectName(QStringLiteral("savedInputs"));
    m_saved->setMinimumContentsLength(12);
    m_saved->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    savedLabel->setBuddy(m_saved);
    auto *saveAs = new QPushButton(tr("Save as\u2026"), this);
    saveAs->setToolTip(tr("Keep this input under a name, on the server, for everyone who tests this function"));
    auto *remove = new QPushButton(tr("Delete"), this);
    auto *exportButton = new QPushButton(tr("Export\u2026"), this);
    exportButton->setToolTip(tr("Write every saved input of this function to a JSON file"));
    savedRow->addWidget(savedLabel);
    savedRow->addWidget(m_saved, 1);
    savedRow->addWidget(saveAs);
    savedRow->addWidget(remove);
    savedRow->addWidget(exportButton);
    layout->addLayout(savedRow);
    m_savedNote = new QLabel(this);
    m_savedNote->setWordWrap(true);
    m_savedNote->hide();
    layout->addWidget(m_savedNote);

    m_input = new CodeEditor(this);
    m_input->setObjectName(QStringLiteral("testInput"));
    m_input->setLanguage(QStringLiteral("json"));
    m_input->setFolding(QsciScintilla::NoFoldStyle);
    m_input->setAccessibleName(tr("Test input (JSON)"));
    m_input->setText(QStringLiteral("{}\n"));
    m_inputError = new QLabel(this);
    m_inputError->setObjectName(QStringLiteral("testInputError"));
    m_inputError->setWordWrap(true);
    m_inputError->setStyleSheet(QStringLiteral("color: #d1242f;"));
    m_inputError->hide();

    auto *runRow = new QHBoxLayout;
    m_run = new QPushButton(tr("\u25b6 Run"), this);
    m_run->setObjectName(QStringLiteral("testRunButton"));
    m_run->setToolTip(tr("Run the saved function with this input and wait for the result (Ctrl+Enter)"));
    m_badge = new StatusBadge(this);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("testSummary"));
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    runRow->addWidget(m_run);
    runRow->addWidget(m_badge);
    runRow->addWidget(m_summary, 1);

    m_tabs = new QTabWidget(this);
    m_output = makeCodeView(this, QStringLiteral("testOutput"));
    m_trace = new QListWidget(this);
    m_trace->setObjectName(QStringLiteral("testErrorTrace"));
    m_trace->setFont(m_output->font());
    m_trace->setToolTip(tr("Double-click a line of the stack trace to open it in the editor"));
    m_trace->setWordWrap(true);
    m_trace->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_logs = makeCodeView(this, QStringLiteral("testLogs"));
    m_tabs->addTab(m_output, tr("Output"));
    m_tabs->addTab(m_trace, tr("Error"));
    m_tabs->addTab(m_logs, tr("Logs"));

    m_history = new QListWidget(this);
    m_history->setObjectName(QStringLiteral("testHistory"));
    m_history->setFont(m_output->font());
    m_history->setToolTip(tr("The last %1 runs of this function; select one to see it").arg(kHistorySize));

    auto *inputBox = new QWidget(this);
    auto *inputLayout = new QVBoxLayout(inputBox);
    inputLayout->setContentsMargins(0, 0, 0, 0);
    inputLayout->addWidget(m_input, 1);
    inputLayout->addWidget(m_inputError);
    inputLayout->addLayout(runRow);
    auto *historyBox = new QWidget(this);
    auto *historyLayout = new QVBoxLayout(historyBox);
    historyLayout->setContentsMargins(0, 0, 0, 0);
    historyLayout->addWidget(new QLabel(tr("Recent runs"), historyBox));
    historyLayout->addWidget(m_history, 1);
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(inputBox);
    split->addWidget(m_tabs);
    split->addWidget(historyBox);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 2);
    layout->addWidget(split, 1);

    connect(m_run, &QPushButton::clicked, this, &TestPane::runNow);
    auto *runKey = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    runKey->setContext(Qt::WidgetWithChildrenShortcut);
    connect(runKey, &QShortcut::activated, this, &TestPane::runNow);
    connect(m_input, &QsciScintilla::textChanged, m_inputError, &QWidget::hide);
    connect(m_saved, &QComboBox::activated, this, [this](int index) {
        if (index > 0)
            loadInput(m_saved->itemText(index));
    });
    connect(saveAs, &QPushButton::clicked, this, [this] {
        bool ok = false;
        const QString current = m_saved->currentIndex() > 0 ? m_saved->currentText() : QString();
        const QString name = QInputDialog::getText(this, tr("Save test input"), tr("Name of this input:"),
                                                   QLineEdit::Normal, current, &ok).trimmed();
        if (ok && !name.isEmpty())
            saveInput(name);
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_saved->currentIndex() <= 0)
            return;
        const QString name = m_saved->currentText();
        if (QMessageBox::question(this, tr("Delete test input"), tr("Delete the saved input \u201c%1\u201d?").arg(name))
            == QMessageBox::Yes)
            deleteInput(name);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(this, tr("Export test inputs"),
                                                          m_function + QStringLiteral("-inputs.json"),
                                                          tr("JSON (*.json)"));
        QString error;
        if (!file.isEmpty() && !exportInputs(file, &error))
            QMessageBox::warning(this, tr("Export test inputs"), error);
    });
    connect(m_trace, &QListWidget::itemActivated, this, [this](QListWidgetItem *item) {
        const QString text = item->data(Qt::UserRole).isValid() ? item->data(Qt::UserRole).toString() : item->text();
        const TraceLocation loc = traceLocation(text);
        if (loc.line > 0)
            emit jumpRequested(loc.path, loc.line);
    });
    connect(m_history, &QListWidget::currentRowChanged, this, [this](int row) {
        if (row < 0)
            return;
        const QVariant v = m_history->item(row)->data(Qt::UserRole);
        const Json run = Json::parse(v.toString().toStdString(), nullptr, false);
        if (run.is_object() && jsonString(run, "name") != jsonString(m_lastRun, "name"))
            showRun(run);
    });
    fillSavedCombo();
    reload();
}

QString TestPane::localKey() const
{
    return QStringLiteral("testInputs/%1/%2")
        .arg(QString::fromUtf8(m_workspace->client()->baseUrl().toString().toUtf8().toBase64(QByteArray::Base64UrlEncoding)),
             m_function);
}

void TestPane::reload()
{
    const QString enc = QString::fromUtf8(QUrl::toPercentEncoding(m_function));
    m_workspace->client()->get(QStringLiteral("/v1/function/%1/testinputs").arg(enc), this,
                               [this](const models::ApiResult &r) {
                                   m_loaded = true;
                                   if (r.ok() && r.json.is_array()) {
                                       m_shared = true;
                                       m_inputs = r.json;
                                       m_savedNote->hide();
                                   } else {
                                       // A plain Dispatch server has no place for them: keep them here.
                                       m_shared = false;
                                       QSettings settings;
                                       m_inputs = Json::parse(settings.value(localKey()).toString().toStdString(),
                                                              nullptr, false);
                                       if (!m_inputs.is_array())
                                           m_inputs = Json::array();
                                       m_savedNote->setText(
                                           tr("This server cannot keep test inputs; they are saved on this computer only."));
                                       m_savedNote->show();
                                   }
                                   fillSavedCombo();
                               });
    m_workspace->client()->get(QStringLiteral("/v1/runs?functionName=%1&limit=%2").arg(enc).arg(kHistorySize), this,
                               [this](const models::ApiResult &r) {
                                   if (!r.ok() || !r.json.is_array())
                                       return;
                                   m_history->clear();
                                   // Newest first; a plain Dispatch server ignores `limit`.
                                   std::vector<Json> runs(r.json.begin(), r.json.end());
                                   std::stable_sort(runs.begin(), runs.end(), [](const Json &a, const Json &b) {
                                       return jsonInt(a, "executedTime") > jsonInt(b, "executedTime");
                                   });
                                   for (auto it = runs.rbegin(); it != runs.rend(); ++it)
                                       addToHistory(*it);
                               });
}

void TestPane::fillSavedCombo()
{
    const QString current = m_saved->currentText();
    m_saved->clear();
    m_saved->addItem(m_inputs.empty() ? tr("(no saved inputs)") : tr("(choose one)"));
    for (const auto &item : m_inputs)
        m_saved->addItem(jsonString(item, "name"));
    const int index = m_saved->findText(current);
    m_saved->setCurrentIndex(index > 0 ? index : 0);
}

QStringList TestPane::savedNames() const
{
    QStringList out;
    for (const auto &item : m_inputs)
        out << jsonString(item, "name");
    return out;
}

void TestPane::setInput(const QString &json)
{
    m_input->setText(json);
}

void TestPane::saveInput(const QString &name)
{
    QString error;
    const auto input = parseJsonText(m_input->text(), &error);
    if (!input) {
        m_inputError->setText(error);
        m_inputError->show();
        return;
    }
    bool replaced = false;
    for (auto &item : m_inputs)
        if (jsonString(item, "name") == name) {
            item["input"] = *input;
            replaced = true;
        }
    if (!replaced)
        m_inputs.push_back({{"name", name.toStdString()}, {"input", *input}});
    fillSavedCombo();
    m_saved->setCurrentIndex(m_saved->findText(name));
    storeInputs();
}

bool TestPane::loadInput(const QString &name)
{
    for (const auto &item : m_inputs)
        if (jsonString(item, "name") == name) {
            m_input->setText(prettyJson(item.contains("input") ? item["input"] : Json()) + QLatin1Char('\n'));
            m_saved->setCurrentIndex(m_saved->findText(name));
            return true;
        }
    return false;
}

void TestPane::deleteInput(const QString &name)
{
    Json kept = Json::array();
    for (const auto &item : m_inputs)
        if (jsonString(item, "name") != name)
            kept.push_back(item);
    m_inputs = kept;
    fillSavedCombo();
    storeInputs();
}

void TestPane::storeInputs()
{
    if (!m_shared) {
        QSettings settings;
        settings.setValue(localKey(), QString::fromStdString(m_inputs.dump()));
        return;
    }
    // One PUT at a time: two in flight could arrive in either order and the older list would win.
    if (m_storing) {
        m_storeAgain = true;
        return;
    }
    m_storing = true;
    const QString enc = QString::fromUtf8(QUrl::toPercentEncoding(m_function));
    m_workspace->client()->put(QStringLiteral("/v1/function/%1/testinputs").arg(enc), m_inputs, this,
                               [this](const models::ApiResult &r) {
                                   m_storing = false;
                                   if (m_storeAgain) {
                                       m_storeAgain = false;
                                       storeInputs();
                                       return;
                                   }
                                   if (!r.ok()) {
                                       m_savedNote->setText(tr("The test inputs were not saved: %1").arg(r.errorMessage));
                                       m_savedNote->show();
                                   } else {
                                       m_savedNote->hide();
                                   }
                               });
}

bool TestPane::exportInputs(const QString &file, QString *error) const
{
    QFile out(file);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(file, out.errorString());
        return false;
    }
    const std::string text = m_inputs.dump(2) + "\n";
    if (out.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size())) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(file, out.errorString());
        return false;
    }
    return true;
}

void TestPane::runNow()
{
    QString error;
    const auto input = parseJsonText(m_input->text(), &error);
    if (!input) {
        m_inputError->setText(error);
        m_inputError->show();
        m_input->setFocus();
        return;
    }
    m_run->setEnabled(false);
    m_badge->setStatus(QStringLiteral("WAITING"));
    m_summary->setText(tr("Running %1\u2026").arg(m_function));
    m_workspace->client()->runFunction(m_function, *input, true, this, [this](const models::ApiResult &r) {
        m_run->setEnabled(true);
        if (!r.ok() || !r.json.is_object()) {
            m_badge->setStatus(QStringLiteral("ERROR"), r.errorMessage);
            m_summary->setText(r.errorMessage);
            m_output->clear();
            m_logs->clear();
            m_trace->clear();
            m_trace->addItem(r.errorMessage);
            m_tabs->setCurrentWidget(m_trace);
            return;
        }
        if (m_workspace->runs())
            m_workspace->runs()->applyRun(r.json);
        addToHistory(r.json);
        showRun(r.json);
        emit runFinished(r.json);
    });
}

void TestPane::showRun(const Json &run)
{
    m_lastRun = run;
    const QString status = jsonString(run, "status");
    const QString errorText = runErrorText(run);
    m_badge->setStatus(status, errorText);
    qint64 duration = jsonInt(run, "durationNs", -1);
    const qint64 executed = models::RunsModel::toNanoseconds(jsonInt(run, "executedTime", 0));
    const qint64 finished = models::RunsModel::toNanoseconds(jsonInt(run, "finishedTime", 0));
    if (duration < 0 && finished > 0 && executed > 0)
        duration = finished - executed;
    m_summary->setText(tr("%1 \u00b7 revision %2 \u00b7 run %3")
                           .arg(models::RunsModel::formatDuration(duration), jsonString(run, "faasId").left(8),
                                jsonString(run, "name").left(8)));
    m_output->setPlainText(run.contains("output") ? prettyJson(run["output"]) : QString());
    m_logs->setPlainText(runLogsText(run));
    m_trace->clear();
    if (run.contains("error") && run["error"].is_object()) {
        const Json &e = run["error"];
        m_trace->addItem(QStringLiteral("%1: %2").arg(jsonString(e, "type"), jsonString(e, "message")));
        if (e.contains("stacktrace") && e["stacktrace"].is_array())
            for (const auto &line : e["stacktrace"])
                if (line.is_string()) {
                    const QString text = QString::fromStdString(line.get<std::string>());
                    QString shown = text;
                    const TraceLocation loc = traceLocation(text);
                    if (loc.line > 0)
                        for (const QString &f : std::as_const(m_files))
                            if (loc.path.endsWith(QLatin1Char('/') + f))
                                shown.replace(loc.path, f); // the worker's absolute path says nothing to a reader
                    auto *item = new QListWidgetItem(shown, m_trace);
                    item->setData(Qt::UserRole, text);
                    if (loc.line > 0) {
                        QFont f = item->font();
                        f.setUnderline(true);
                        item->setFont(f);
                        item->setToolTip(tr("Double-click to open %1, line %2").arg(loc.path).arg(loc.line));
                    }
                }
    } else if (!errorText.isEmpty()) {
        m_trace->addItem(errorText);
    }
    m_tabs->setCurrentWidget(status == QLatin1String("ERROR") ? static_cast<QWidget *>(m_trace) : m_output);
}

void TestPane::addToHistory(const Json &run)
{
    const QString id = jsonString(run, "name");
    for (int i = 0; i < m_history->count(); ++i)
        if (m_history->item(i)->data(Qt::UserRole + 1).toString() == id)
            delete m_history->takeItem(i--);
    const qint64 executed = models::RunsModel::toNanoseconds(jsonInt(run, "executedTime", 0));
    const QString when = QDateTime::fromMSecsSinceEpoch(executed / 1000000).toString(QStringLiteral("HH:mm:ss"));
    qint64 duration = jsonInt(run, "durationNs", -1);
    auto *item = new QListWidgetItem(QStringLiteral("%1  %2  %3  %4")
                                         .arg(when, jsonString(run, "status").leftJustified(5),
                                              models::RunsModel::formatDuration(duration).rightJustified(8),
                                              jsonString(run, "faasId").left(8)));
    item->setData(Qt::UserRole, QString::fromStdString(run.dump()));
    item->setData(Qt::UserRole + 1, id);
    item->setToolTip(tr("Run %1").arg(id));
    m_history->insertItem(0, item);
    while (m_history->count() > kHistorySize)
        delete m_history->takeItem(m_history->count() - 1);
}

} // namespace dispatch::views
