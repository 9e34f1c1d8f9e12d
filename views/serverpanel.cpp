// SPDX-License-Identifier: GPL-3.0-or-later
#include "serverpanel.h"

#include "localserver.h"
#include "logmodel.h"
#include "messagebar.h"
#include "resourcepanel.h"
#include "restclient.h"
#include "roles.h"
#include "theme.h"
#include "watchclient.h"
#include "workspace.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QFontDatabase>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QShortcut>
#include <QStyledItemDelegate>
#include <QTextLayout>
#include <QVBoxLayout>

namespace dispatch::views {

namespace {

// Paints a log line with the search matches highlighted (not only the rows filtered) and the level coloured.
class LogLineDelegate : public QStyledItemDelegate
{
public:
    LogLineDelegate(models::LogModel *log, QObject *parent) : QStyledItemDelegate(parent), m_log(log) {}

    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        const QString text = opt.text;
        opt.text.clear();
        const QWidget *w = option.widget;
        w->style()->drawControl(QStyle::CE_ItemViewItem, &opt, painter, w);
        const auto level = static_cast<models::LogLevel>(index.data(models::LevelRole).toInt());
        QColor color = option.palette.color(QPalette::Text);
        if (option.state & QStyle::State_Selected)
            color = option.palette.color(QPalette::HighlightedText);
        else if (level == models::LogLevel::Error || level == models::LogLevel::Critical)
            color = isDarkPalette(option.palette) ? QColor(0xff, 0x8a, 0x80) : QColor(0xb0, 0x1c, 0x1c);
        else if (level == models::LogLevel::Warning)
            color = isDarkPalette(option.palette) ? QColor(0xf0, 0xc0, 0x60) : QColor(0x8a, 0x5a, 0x00);
        else if (level == models::LogLevel::Debug || level == models::LogLevel::Trace)
            color = option.palette.color(QPalette::PlaceholderText);

        QList<QTextLayout::FormatRange> formats;
        const QString needle = m_log->searchText();
        if (!needle.isEmpty() && index.data(models::MatchRole).toBool()) {
            QTextCharFormat hl;
            hl.setBackground(isDarkPalette(option.palette) ? QColor(0x8a, 0x6d, 0x00) : QColor(0xff, 0xe0, 0x66));
            hl.setForeground(isDarkPalette(option.palette) ? QColor(Qt::white) : QColor(Qt::black));
            QRegularExpression re(m_regex ? needle : QRegularExpression::escape(needle),
                                  QRegularExpression::CaseInsensitiveOption);
            auto it = re.globalMatch(text);
            while (it.hasNext()) {
                const auto m = it.next();
                if (m.capturedLength() == 0)
                    break;
                formats.append({static_cast<int>(m.capturedStart()), static_cast<int>(m.capturedLength()), hl});
            }
        }
        QTextLayout layout(text, option.font);
        layout.setFormats(formats);
        QTextOption to;
        to.setWrapMode(QTextOption::NoWrap);
        layout.setTextOption(to);
        layout.beginLayout();
        QTextLine line = layout.createLine();
        layout.endLayout();
        painter->save();
        painter->setPen(color);
        const QRect r = option.rect.adjusted(4, 0, -4, 0);
        painter->setClipRect(r);
        layout.draw(painter, QPointF(r.left(), r.top() + (r.height() - line.height()) / 2.0), {}, r);
        painter->restore();
    }

    bool m_regex = false;

private:
    models::LogModel *m_log;
};

} // namespace

ServerPanel::ServerPanel(Workspace *workspace, models::LocalServer *server, models::LogModel *log, QWidget *parent)
    : Panel(parent), m_workspace(workspace), m_server(server), m_log(log)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 8);
    layout->addWidget(makePanelHeading(tr("Server"), tr("The bundled local server, the current connection and the "
                                                        "server log."),
                                       this));

    auto *top = new QHBoxLayout;
    auto *local = new QGroupBox(tr("Local server"), this);
    auto *lg = new QGridLayout(local);
    m_badge = new StatusBadge(local);
    m_badge->setObjectName(QStringLiteral("localServerBadge"));
    m_state = new QLabel(local);
    m_state->setObjectName(QStringLiteral("localServerState"));
    m_state->setWordWrap(true);
    m_state->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *stateRow = new QHBoxLayout;
    stateRow->addWidget(m_badge);
    stateRow->addWidget(m_state, 1);
    lg->addLayout(stateRow, 0, 0, 1, 2);
    m_details = new QLabel(local);
    m_details->setObjectName(QStringLiteral("localServerDetails"));
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setWordWrap(true);
    lg->addWidget(m_details, 1, 0, 1, 2);
    auto *buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("&Start"), local);
    m_start->setObjectName(QStringLiteral("startServerButton"));
    m_stop = new QPushButton(tr("S&top"), local);
    m_stop->setObjectName(QStringLiteral("stopServerButton"));
    m_restart = new QPushButton(tr("&Restart"), local);
    m_restart->setObjectName(QStringLiteral("restartServerButton"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    buttons->addWidget(m_restart);
    buttons->addStretch(1);
    lg->addLayout(buttons, 2, 0, 1, 2);
    top->addWidget(local, 1);

    auto *conn = new QGroupBox(tr("Current context"), this);
    auto *cl = new QVBoxLayout(conn);
    m_connection = new QLabel(conn);
    m_connection->setObjectName(QStringLiteral("contextConnection"));
    m_connection->setTextFormat(Qt::RichText);
    m_connection->setWordWrap(true);
    m_connection->setTextInteractionFlags(Qt::TextSelectableByMouse);
    cl->addWidget(m_connection);
    cl->addStretch(1);
    top->addWidget(conn, 1);
    layout->addLayout(top);

    // Log toolbar.
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Level:"), this));
    m_level = new QComboBox(this);
    m_level->setObjectName(QStringLiteral("logLevel"));
    m_level->setAccessibleName(tr("Minimum log level"));
    m_level->addItem(tr("Everything"), int(models::LogLevel::Trace));
    m_level->addItem(tr("Debug and above"), int(models::LogLevel::Debug));
    m_level->addItem(tr("Info and above"), int(models::LogLevel::Info));
    m_level->addItem(tr("Warnings and errors"), int(models::LogLevel::Warning));
    m_level->addItem(tr("Errors only"), int(models::LogLevel::Error));
    bar->addWidget(m_level);
    m_search = new QLineEdit(this);
    m_search->setObjectName(QStringLiteral("logSearch"));
    m_search->setPlaceholderText(tr("Search the log  ( / or Ctrl+F )"));
    m_search->setAccessibleName(tr("Search the log"));
    m_search->setClearButtonEnabled(true);
    bar->addWidget(m_search, 1);
    m_regex = new QCheckBox(tr("Rege&x"), this);
    m_regex->setObjectName(QStringLiteral("logRegex"));
    bar->addWidget(m_regex);
    auto *prev = new QPushButton(QStringLiteral("\u2191"), this);
    prev->setObjectName(QStringLiteral("logPrevious"));
    prev->setAccessibleName(tr("Previous match"));
    prev->setToolTip(tr("Previous match (Shift+F3)"));
    prev->setMaximumWidth(prev->fontMetrics().horizontalAdvance(QStringLiteral("MMM")) + 12);
    auto *next = new QPushButton(QStringLiteral("\u2193"), this);
    next->setObjectName(QStringLiteral("logNext"));
    next->setAccessibleName(tr("Next match"));
    next->setToolTip(tr("Next match (F3)"));
    next->setMaximumWidth(prev->maximumWidth());
    bar->addWidget(prev);
    bar->addWidget(next);
    m_matches = new QLabel(this);
    m_matches->setObjectName(QStringLiteral("logMatches"));
    m_matches->setMinimumWidth(m_matches->fontMetrics().horizontalAdvance(QStringLiteral("999 of 9999 matches")));
    bar->addWidget(m_matches);
    auto *copy = new QPushButton(tr("&Copy all"), this);
    copy->setObjectName(QStringLiteral("logCopyAll"));
    copy->setToolTip(tr("Copy every kept line (not only the visible ones)"));
    bar->addWidget(copy);
    layout->addLayout(bar);

    m_logView = new QListView(this);
    m_logView->setObjectName(QStringLiteral("logView"));
    m_logView->setAccessibleName(tr("Server log"));
    m_logView->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_logView->setUniformItemSizes(true);
    m_logView->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_logView->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    auto *delegate = new LogLineDelegate(log, m_logView);
    m_logView->setItemDelegate(delegate);
    if (log)
        m_logView->setModel(log);
    layout->addWidget(m_logView, 1);
    m_follow = new QLabel(this);
    m_follow->setObjectName(QStringLiteral("logFollow"));
    m_follow->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_follow);

    connect(m_level, &QComboBox::currentIndexChanged, this, [this] {
        if (m_log)
            m_log->setMinimumLevel(static_cast<models::LogLevel>(m_level->currentData().toInt()));
    });
    auto applySearch = [this, delegate] {
        if (!m_log)
            return;
        delegate->m_regex = m_regex->isChecked();
        m_log->setSearch(m_search->text(), m_regex->isChecked());
        m_currentMatch = -1;
        updateMatches();
        m_logView->viewport()->update();
    };
    connect(m_search, &QLineEdit::textChanged, this, applySearch);
    connect(m_regex, &QCheckBox::toggled, this, applySearch);
    connect(m_search, &QLineEdit::returnPressed, this, &ServerPanel::findNext);
    connect(next, &QPushButton::clicked, this, &ServerPanel::findNext);
    connect(prev, &QPushButton::clicked, this, &ServerPanel::findPrevious);
    connect(copy, &QPushButton::clicked, this, &ServerPanel::copyAll);
    auto *find = new QShortcut(QKeySequence::Find, this, [this] {
        m_search->setFocus();
        m_search->selectAll();
    });
    find->setContext(Qt::WidgetWithChildrenShortcut);
    auto *f3 = new QShortcut(QKeySequence::FindNext, this, this, &ServerPanel::findNext);
    f3->setContext(Qt::WidgetWithChildrenShortcut);
    auto *sf3 = new QShortcut(QKeySequence::FindPrevious, this, this, &ServerPanel::findPrevious);
    sf3->setContext(Qt::WidgetWithChildrenShortcut);

    // Follow the tail only while the reader is at the bottom.
    QScrollBar *sb = m_logView->verticalScrollBar();
    connect(sb, &QScrollBar::valueChanged, this, [this, sb](int v) {
        m_pinned = v >= sb->maximum() - 1;
        m_follow->setText(m_pinned ? tr("Following new lines") : tr("Paused: scroll to the bottom to follow new lines"));
    });
    if (log) {
        connect(log, &QAbstractItemModel::rowsAboutToBeInserted, this, [this, sb] { m_pinned = sb->value() >= sb->maximum() - 1; });
        connect(log, &models::LogModel::linesAppended, this, [this] {
            if (m_pinned)
                m_logView->scrollToBottom();
            if (!m_search->text().isEmpty())
                updateMatches();
        });
    }
    m_follow->setText(tr("Following new lines"));

    if (server) {
        connect(m_start, &QPushButton::clicked, server, &models::LocalServer::start);
        connect(m_stop, &QPushButton::clicked, server, &models::LocalServer::stop);
        connect(m_restart, &QPushButton::clicked, server, &models::LocalServer::restart);
        connect(server, &models::LocalServer::stateChanged, this, &ServerPanel::updateState);
        connect(server, &models::LocalServer::portsChanged, this, &ServerPanel::updateState);
        connect(server, &models::LocalServer::errorOccurred, this, &ServerPanel::updateState);
    }
    connect(workspace->client(), &models::RestClient::connectionStateChanged, this, &ServerPanel::updateConnection);
    connect(workspace->client(), &models::RestClient::serverKindChanged, this, &ServerPanel::updateConnection);
    connect(workspace, &Workspace::contextInfoChanged, this, &ServerPanel::updateConnection);
    connect(workspace->watch(), &models::WatchClient::stateChanged, this, &ServerPanel::updateConnection);
    updateState();
    updateConnection();
}

QString ServerPanel::stateText() const
{
    return m_state->text();
}

void ServerPanel::updateState()
{
    if (!m_server) {
        m_badge->setStatus(QStringLiteral("STOPPED"));
        m_state->setText(tr("This console has no bundled server."));
        m_details->clear();
        for (auto *b : {m_start, m_stop, m_restart})
            b->setEnabled(false);
        return;
    }
    using State = models::LocalServer::State;
    const State s = m_server->state();
    QString status;
    QString text;
    switch (s) {
    case State::Stopped:
        status = QStringLiteral("STOPPED");
        text = m_server->lastError().isEmpty() ? tr("Stopped.") : tr("Stopped: %1").arg(m_server->lastError());
        break;
    case State::Starting:
        status = QStringLiteral("STARTING");
        text = tr("Starting\u2026");
        break;
    case State::Running:
        status = QStringLiteral("RUNNING");
        text = tr("Running on ports %1 (API) and %2 (gateway)%3.")
                   .arg(m_server->apiPort())
                   .arg(m_server->gatewayPort())
                   .arg(m_server->isAttached() ? tr(", started by another console") : QString());
        break;
    case State::Crashed:
        status = QStringLiteral("CRASHED");
        text = tr("Crashed: %1. Restarting in %2 s (restart %3).")
                   .arg(m_server->lastError().isEmpty() ? tr("the process ended") : m_server->lastError())
                   .arg(m_server->nextRestartDelay().count() / 1000.0, 0, 'f', 0)
                   .arg(m_server->restartCount());
        break;
    case State::Stopping:
        status = QStringLiteral("STOPPING");
        text = tr("Stopping\u2026");
        break;
    }
    m_badge->setStatus(status, text);
    m_state->setText(text);
    const auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><td style='padding-right:10px'><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
    };
    QString html = QStringLiteral("<table>");
    html += row(tr("API"), m_server->apiBaseUrl().isEmpty() ? tr("\u2013") : m_server->apiBaseUrl());
    html += row(tr("Gateway"), m_server->gatewayPort() ? QStringLiteral("http://127.0.0.1:%1").arg(m_server->gatewayPort())
                                                       : tr("\u2013"));
    html += row(tr("Data dir"), m_server->dataDir());
    html += row(tr("Program"), m_server->executable());
    html += row(tr("Process"), m_server->pid() > 0 ? QString::number(m_server->pid()) : tr("\u2013"));
    html += QStringLiteral("</table>");
    m_details->setText(html);
    m_start->setEnabled(s == State::Stopped || s == State::Crashed);
    m_stop->setEnabled(s == State::Running || s == State::Starting || s == State::Crashed);
    m_restart->setEnabled(s == State::Running || s == State::Crashed);
}

void ServerPanel::updateConnection()
{
    auto *c = m_workspace->client();
    const auto row = [](const QString &k, const QString &v) {
        return QStringLiteral("<tr><td style='padding-right:10px'><b>%1</b></td><td>%2</td></tr>").arg(k, v.toHtmlEscaped());
    };
    QString state;
    switch (c->connectionState()) {
    case models::RestClient::ConnectionState::Unknown:
        state = c->endpoint().isValid() ? tr("connecting\u2026") : tr("no address yet");
        break;
    case models::RestClient::ConnectionState::Connected:
        state = tr("connected");
        break;
    case models::RestClient::ConnectionState::Unreachable:
        state = tr("unreachable \u2014 %1").arg(c->connectionMessage());
        break;
    }
    QString kind;
    switch (c->serverKind()) {
    case models::RestClient::ServerKind::Unknown:
        kind = tr("unknown");
        break;
    case models::RestClient::ServerKind::Ours:
        kind = tr("Dispatch Console server");
        break;
    case models::RestClient::ServerKind::PlainDispatch:
        kind = tr("Dispatch (no live updates: polling)");
        break;
    }
    QString html = QStringLiteral("<table>");
    html += row(tr("Context"), m_workspace->contextName());
    html += row(tr("Address"), c->endpoint().baseUrl.toString());
    html += row(tr("Organization"), c->endpoint().organization);
    html += row(tr("State"), state);
    html += row(tr("Server"), kind);
    html += row(tr("Version"), c->serverVersion().isEmpty() ? tr("\u2013") : c->serverVersion());
    html += row(tr("Updates"), m_workspace->watch()->isStreaming() ? tr("live") : tr("polling"));
    html += QStringLiteral("</table>");
    m_connection->setText(html);
}

void ServerPanel::updateMatches()
{
    if (!m_log || m_search->text().isEmpty()) {
        m_matches->clear();
        return;
    }
    if (!m_log->isSearchValid()) {
        m_matches->setText(tr("invalid pattern"));
        return;
    }
    const int n = m_log->matchCount();
    m_matches->setText(n == 0 ? tr("no matches") : (n == 1 ? tr("1 match") : tr("%1 matches").arg(n)));
}

void ServerPanel::findNext()
{
    if (!m_log)
        return;
    const int from = m_logView->currentIndex().isValid() ? m_logView->currentIndex().row() : -1;
    const int row = m_log->nextMatch(from);
    if (row < 0)
        return;
    m_logView->setCurrentIndex(m_log->index(row));
    m_logView->scrollTo(m_log->index(row), QAbstractItemView::PositionAtCenter);
}

void ServerPanel::findPrevious()
{
    if (!m_log)
        return;
    const int from = m_logView->currentIndex().isValid() ? m_logView->currentIndex().row() : m_log->rowCount();
    const int row = m_log->previousMatch(from);
    if (row < 0)
        return;
    m_logView->setCurrentIndex(m_log->index(row));
    m_logView->scrollTo(m_log->index(row), QAbstractItemView::PositionAtCenter);
}

void ServerPanel::copyAll()
{
    if (m_log)
        QGuiApplication::clipboard()->setText(m_log->allText());
}

} // namespace dispatch::views
