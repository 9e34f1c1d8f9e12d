// SPDX-License-Identifier: GPL-3.0-or-later
#include "replaydialog.h"

#include "execdialog.h"
#include "jsontext.h"
#include "messagebar.h"
#include "restclient.h"
#include "runsmodel.h"
#include "workspace.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QVBoxLayout>

namespace dispatch::views {

using Json = nlohmann::json;

ReplayDialog::ReplayDialog(Workspace *workspace, const Json &run, QWidget *parent)
    : QDialog(parent), m_workspace(workspace), m_run(run)
{
    setObjectName(QStringLiteral("replayDialog"));
    const QString fn = jsonString(run, "functionName");
    setWindowTitle(tr("Replay run %1 of %2").arg(jsonString(run, "name").left(8), fn));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("The input of run %1 sent again to the current code of %2.")
                                 .arg(jsonString(run, "name").left(8), fn),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto *grid = new QGridLayout;
    m_thenTitle = new QLabel(tr("<b>Then</b> \u2014 revision %1").arg(jsonString(run, "faasId").left(8)), this);
    m_nowTitle = new QLabel(tr("<b>Now</b> \u2014 current code"), this);
    m_thenBadge = new StatusBadge(this);
    m_nowBadge = new StatusBadge(this);
    m_thenText = makeCodeView(this, QStringLiteral("replayThen"));
    m_nowText = makeCodeView(this, QStringLiteral("replayNow"));
    grid->addWidget(m_thenTitle, 0, 0);
    grid->addWidget(m_thenBadge, 0, 1, Qt::AlignRight);
    grid->addWidget(m_nowTitle, 0, 2);
    grid->addWidget(m_nowBadge, 0, 3, Qt::AlignRight);
    grid->addWidget(m_thenText, 1, 0, 1, 2);
    grid->addWidget(m_nowText, 1, 2, 1, 2);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(2, 1);
    layout->addLayout(grid, 1);
    auto *input = makeCodeView(this, QStringLiteral("replayInput"));
    input->setPlainText(tr("Input: %1").arg(run.contains("input") ? QString::fromStdString(run["input"].dump()) : QStringLiteral("null")));
    input->setMaximumHeight(input->fontMetrics().lineSpacing() * 4);
    layout->addWidget(input);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    m_thenBadge->setStatus(jsonString(run, "status"), runErrorText(run));
    m_thenText->setPlainText(outcome(run));
    resize(900, 520);
    start();
}

QString ReplayDialog::outcome(const Json &run)
{
    QString text;
    qint64 duration = jsonInt(run, "durationNs", -1);
    text += tr("Duration: %1\n\n").arg(models::RunsModel::formatDuration(duration));
    if (jsonString(run, "status") == QLatin1String("ERROR"))
        text += runErrorText(run);
    else
        text += run.contains("output") ? prettyJson(run["output"]) : QStringLiteral("null");
    return text;
}

void ReplayDialog::start()
{
    const QString fn = jsonString(m_run, "functionName");
    m_nowBadge->setStatus(QStringLiteral("WAITING"));
    m_nowText->setPlainText(tr("Running\u2026"));
    const Json input = m_run.contains("input") ? m_run["input"] : Json();
    m_workspace->client()->runFunction(fn, input, true, this, [this](const models::ApiResult &r) {
        m_finished = true;
        if (!r.ok() || !r.json.is_object()) {
            m_nowBadge->setStatus(QStringLiteral("ERROR"), r.errorMessage);
            m_nowText->setPlainText(r.errorMessage);
            emit finished(Json());
            return;
        }
        m_replay = r.json;
        if (m_workspace->runs())
            m_workspace->runs()->applyRun(r.json);
        m_nowTitle->setText(tr("<b>Now</b> \u2014 revision %1").arg(jsonString(r.json, "faasId").left(8)));
        m_nowBadge->setStatus(jsonString(r.json, "status"), runErrorText(r.json));
        m_nowText->setPlainText(outcome(r.json));
        emit finished(r.json);
    });
}

} // namespace dispatch::views
