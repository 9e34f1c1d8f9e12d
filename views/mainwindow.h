// The console window: navigation sidebar (Ctrl+1…8), the context strip, the panels, the status bar (context,
// connection, local server) and the menus (settings, context switcher, demo, shortcut cheat sheet).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QMainWindow>
#include <QPointer>

#include "shortcutsdialog.h"

class QLabel;
class QListWidget;
class QStackedWidget;

namespace dispatch::models {
class ContextStore;
class LocalServer;
class LogModel;
} // namespace dispatch::models

namespace dispatch::views {

class CommandPalette;
class AccountWidget;
class ContextBanner;
class Demo;
class Panel;
class Workspace;
class FunctionsPanel;
class RunsPanel;
class ApisPanel;
class EventsPanel;
class ImagesPanel;
class SecretsPanel;
class ServerPanel;
class DashboardPanel;

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    enum Page
    {
        FunctionsPage,
        RunsPage,
        ApisPage,
        EventsPage,
        ImagesPage,
        SecretsPage,
        ServerPage,
        DashboardPage,
        PageCount
    };

    // Nothing is owned but the widgets; `localServer` and `log` may be null (a console without a bundled server).
    MainWindow(Workspace *workspace, models::ContextStore *contexts, models::LocalServer *localServer,
               models::LogModel *log, QWidget *parent = nullptr);
    ~MainWindow() override;

    void showPage(Page page);
    Page currentPage() const;
    Panel *panel(Page page) const;
    QList<ShortcutEntry> shortcuts() const;
    Workspace *workspace() const { return m_workspace; }
    Demo *demo() const { return m_demo; }

    FunctionsPanel *functionsPanel() const;
    RunsPanel *runsPanel() const;
    ApisPanel *apisPanel() const;
    EventsPanel *eventsPanel() const;
    ImagesPanel *imagesPanel() const;
    SecretsPanel *secretsPanel() const;
    ServerPanel *serverPanel() const;
    CommandPalette *commandPalette() const { return m_palette; } // null until first shown
    DashboardPanel *dashboardPanel() const;

    QString connectionText() const;
    QString localServerText() const;
    ContextBanner *contextStrip() const { return m_strip; }

    // Brings the window to the front (a second launch asked for it).
    void raiseWindow();
    // Switches to the context (through the store) and points the workspace at it.
    bool switchContext(const QString &name, QString *error = nullptr);

public slots:
    void showSettings();
    void showShortcuts();
    void showContextSwitcher();
    void showAbout();
    void showCommandPalette();

signals:
    void contextSwitched(const QString &name);

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void buildMenus();
    void buildStatusBar();
    void applyCurrentContext();
    void updateConnectionLabel();
    void moveCookieToKeychain(); // asks, then keeps the context's CLI cookie in the keychain only
    void refreshPermissions(); // whoami → actions the policies forbid are disabled, the org list
    void updateLocalServerLabel();
    void focusFilter();
    void updateGatewayBase();

    Workspace *m_workspace = nullptr;
    models::ContextStore *m_contexts = nullptr;
    QPointer<models::LocalServer> m_localServer;
    models::LogModel *m_log = nullptr;
    Demo *m_demo = nullptr;
    CommandPalette *m_palette = nullptr;
    ContextBanner *m_strip = nullptr;
    QListWidget *m_nav = nullptr;
    QStackedWidget *m_stack = nullptr;
    QList<Panel *> m_panels;
    QLabel *m_contextChip = nullptr;
    QLabel *m_connection = nullptr;
    AccountWidget *m_account = nullptr; // who is logged in to the current context
    QLabel *m_serverState = nullptr;
    QString m_appliedContext;
    bool m_inPaletteChange = false;
};

// A context colour for display: the stored one, else Local green, "prod…" red, otherwise a calm blue-grey.
QColor contextDisplayColor(const QString &name, const QString &storedColor, bool isLocal);

} // namespace dispatch::views
